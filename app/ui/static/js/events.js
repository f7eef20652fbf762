// A job's Server-Sent Events over fetch(): EventSource cannot send the Bearer header. After a
// dropped connection it resumes with Last-Event-ID, so nothing is missed or repeated.
import { ApiError, authHeaders, responseError } from "./api.js";
import { v1Path } from "./dom.js";

const TERMINAL = new Set(["succeeded", "failed", "cancelled"]);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function parseBlock(block) {
  const event = { id: null, type: "message", data: [] };
  for (const line of block.split("\n")) {
    if (!line || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "id") event.id = value;
    else if (field === "event") event.type = value;
    else if (field === "data") event.data.push(value);
  }
  if (!event.data.length) return null;
  return { id: event.id, type: event.type, data: JSON.parse(event.data.join("\n")) };
}

async function* sseEvents(body) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value.replace(/\r\n?/g, "\n");
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const event = parseBlock(buffer.slice(0, end));
      buffer = buffer.slice(end + 2);
      if (event) yield event;
    }
  }
}

export async function followJobEvents(jobId, onEvent, { onState = () => {}, signal } = {}) {
  let lastId = null;
  let failures = 0;
  while (!signal?.aborted) {
    try {
      const headers = authHeaders(lastId === null ? {} : { "Last-Event-ID": lastId });
      const response = await fetch(v1Path("jobs", jobId, "events"), { headers, signal, cache: "no-store" });
      if (!response.ok) throw await responseError(response);
      onState("live");
      failures = 0;
      for await (const event of sseEvents(response.body)) {
        if (event.id !== null) lastId = event.id;
        onEvent(event.type, event.data);
        if (event.type === "status" && TERMINAL.has(event.data.status)) {
          onState("ended");
          return;
        }
      }
    } catch (err) {
      if (signal?.aborted) return;
      if (err instanceof ApiError && err.status >= 400 && err.status < 500) throw err;
    }
    onState("reconnecting");
    await sleep(Math.min(500 * 2 ** failures++, 8000));
  }
}
