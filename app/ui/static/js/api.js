// Every call goes to the public /v1 API with the key as the Bearer header, and nowhere else:
// never in a URL, never logged.
const KEY_NAME = "shears.apiKey";

export const getKey = () => sessionStorage.getItem(KEY_NAME);
export const setKey = (key) => sessionStorage.setItem(KEY_NAME, key);
export const forgetKey = () => sessionStorage.removeItem(KEY_NAME);

export class ApiError extends Error {
  constructor(status, code, message, details = null) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

export function authHeaders(extra = {}) {
  const headers = { ...extra };
  const key = getKey();
  if (key) headers.Authorization = `Bearer ${key}`;
  return headers;
}

function envelopeError(status, body, fallback) {
  const error = body && body.error;
  if (error) return new ApiError(status, error.code, error.message, error.details);
  return new ApiError(status, `http_${status}`, fallback);
}

export async function responseError(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    // Not the JSON envelope (a proxy's page, say): the status line says enough.
  }
  return envelopeError(response.status, body, `${response.status} ${response.statusText}`);
}

export async function api(path, { method = "GET", json, headers = {} } = {}) {
  const init = { method, headers: authHeaders(headers) };
  if (json !== undefined) {
    init.body = JSON.stringify(json);
    init.headers["Content-Type"] = "application/json";
  }
  const response = await fetch(path, init);
  if (!response.ok) throw await responseError(response);
  return response.status === 204 ? null : response.json();
}

// fetch() cannot report upload progress; XMLHttpRequest can.
export function upload(path, formData, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", path);
    for (const [name, value] of Object.entries(authHeaders())) xhr.setRequestHeader(name, value);
    xhr.responseType = "json";
    xhr.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable) onProgress(e.loaded, e.total);
    });
    xhr.addEventListener("load", () => {
      if (xhr.status >= 200 && xhr.status < 300) resolve(xhr.response);
      else reject(envelopeError(xhr.status, xhr.response, `upload failed (${xhr.status})`));
    });
    xhr.addEventListener("error", () =>
      reject(new ApiError(0, "network_error", "the upload did not reach the server")),
    );
    xhr.send(formData);
  });
}

function filenameOf(disposition) {
  const match = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(disposition || "");
  return match ? decodeURIComponent(match[1]) : null;
}

export async function fetchBlob(path) {
  const response = await fetch(path, { headers: authHeaders() });
  if (!response.ok) throw await responseError(response);
  const name = filenameOf(response.headers.get("Content-Disposition"));
  return { blob: await response.blob(), name };
}

// A link with the key in its URL would leak it to history and logs: fetch, then save the blob.
export async function download(path, fallbackName) {
  const { blob, name } = await fetchBlob(path);
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = name || fallbackName;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
  return { name: link.download, size: blob.size };
}

let openapi = null;
export async function openapiDocument() {
  if (!openapi) {
    const response = await fetch("/openapi.json");
    if (!response.ok) throw await responseError(response);
    openapi = await response.json();
  }
  return openapi;
}
