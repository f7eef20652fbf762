import { api } from "../api.js";
import { h, link, replace } from "../dom.js";
import { jobsTable } from "../jobs_table.js";

const STATUSES = ["queued", "running", "succeeded", "failed", "cancelled"];
const REFRESH_MS = 3000;

// The filter is a plain GET form: the status lives in the URL, so a reload or a link keeps it.
function filterForm(current) {
  const select = h(
    "select",
    { id: "status-filter", name: "status" },
    h("option", { value: "" }, "any status"),
    STATUSES.map((s) => h("option", { value: s, selected: s === current }, s)),
  );
  return h(
    "form",
    { method: "get", action: "/ui/jobs", class: "filter" },
    h("label", { for: "status-filter" }, "Status"),
    select,
    h("button", { type: "submit" }, "Filter"),
  );
}

export async function render(main, _id, query) {
  const status = STATUSES.includes(query.get("status")) ? query.get("status") : "";
  const path = `/v1/jobs?limit=100${status ? `&status=${status}` : ""}`;
  const list = h("div", { "aria-live": "polite" });
  const count = h("h2", {});
  const refresh = async () => {
    const jobs = await api(path);
    replace(count, `${jobs.count} ${status || ""} jobs`.replace("  ", " "));
    replace(list, jobsTable(jobs.data));
    return jobs.data.some((j) => j.status === "queued" || j.status === "running");
  };
  replace(main, h("h1", {}, "Jobs"), h("p", { class: "actions" }, link("/ui/jobs/new", "Submit a job")), filterForm(status), count, list);
  // Keep the list current while something is still moving.
  const tick = async () => {
    if (await refresh()) setTimeout(() => tick().catch(() => setTimeout(tick, REFRESH_MS)), REFRESH_MS);
  };
  await tick();
}
