import { fmt, h, link, statusBadge, table, uiPath } from "./dom.js";

export function jobsTable(jobs) {
  if (!jobs.length) return h("p", {}, "No jobs here yet.");
  return table(
    [
      ["Job", (j) => link(uiPath("jobs", j.id), j.name || j.id)],
      ["Kind", (j) => j.kind || "prune"],
      ["Status", (j) => statusBadge(j.status)],
      ["Sparsity (achieved / target)", (j) => sparsity(j)],
      ["Created", (j) => fmt.time(j.created_at)],
    ],
    jobs,
    { caption: "Jobs" },
  );
}

function sparsity(job) {
  const p = job.progress;
  if (!p || p.achieved_sparsity === null || p.achieved_sparsity === undefined) return "—";
  return `${fmt.pct(p.achieved_sparsity)} / ${fmt.pct(p.target_sparsity)}`;
}
