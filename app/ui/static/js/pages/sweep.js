import { api } from "../api.js";
import { LineChart } from "../chart.js";
import { actionButton, facts, fmt, h, link, replace, statusBadge, table, uiPath, v1Path } from "../dom.js";
import { downloadList } from "../downloads.js";

const REFRESH_MS = 3000;
const ACTIVE = new Set(["queued", "running"]);

function curve(sweep) {
  const chart = new LineChart({
    id: "sweep-chart",
    title: "Accuracy against sparsity",
    series: [
      { name: "baseline", label: "baseline", className: "series-target" },
      { name: "accuracy", label: "pruned", className: "series-achieved" },
    ],
    yFormat: fmt.pct,
    xLabel: "sparsity",
    xFormat: fmt.pct,
  });
  const done = sweep.table.filter((row) => Number.isFinite(row.accuracy));
  chart.setPoints("accuracy", done.map((row) => [row.target_sparsity, row.accuracy]));
  const base = sweep.baseline?.accuracy;
  if (Number.isFinite(base)) chart.setPoints("baseline", [[0, base], [1, base]]);
  chart.xMax = 1;
  chart.draw();
  return chart.element;
}

function rows(sweep) {
  return table(
    [
      ["Target", (r) => fmt.pct(r.target_sparsity)],
      ["Job", (r) => (r.job_id ? link(uiPath("jobs", r.job_id), r.job_id) : "—")],
      ["Status", (r) => statusBadge(r.status)],
      ["Achieved", (r) => fmt.pct(r.achieved_sparsity)],
      ["Accuracy", (r) => fmt.pct(r.accuracy)],
      ["Loss", (r) => fmt.num(r.loss)],
      ["Nonzero params", (r) => fmt.int(r.params_nonzero)],
      ["Pruned, gzipped", (r) => fmt.bytes(r.pruned_gzip_bytes)],
    ],
    sweep.table,
    { caption: "One job per sparsity", rowClass: (r) => (r.job_id && r.job_id === sweep.recommended ? "recommended" : null) },
  );
}

export async function render(main, id) {
  const body = h("div", { "aria-live": "polite" });
  const title = h("h1", {}, `Sweep ${id}`);
  const refresh = async () => {
    const sweep = await api(v1Path("sweeps", id));
    if (sweep.name) title.textContent = sweep.name;
    const best = sweep.table.find((r) => r.job_id && r.job_id === sweep.recommended);
    replace(
      body,
      facts([
        ["Status", statusBadge(sweep.status)],
        ["Jobs", Object.entries(sweep.counts || {}).map(([k, v]) => `${k} ${v}`).join(", ")],
        ["Baseline accuracy", fmt.pct(sweep.baseline?.accuracy)],
        ["Recommended", best ? link(uiPath("jobs", best.job_id), `${fmt.pct(best.target_sparsity)} sparsity`) : "none yet"],
      ]),
      ACTIVE.has(sweep.status) ? actionButton("Cancel sweep", () => api(`${v1Path("sweeps", id)}/cancel`, { method: "POST" }).then(() => "cancel requested")) : null,
      curve(sweep),
      rows(sweep),
      downloadList([["report (PNG)", `${v1Path("sweeps", id)}/report.png`, `${sweep.name || id}.report.png`]]),
    );
    return ACTIVE.has(sweep.status);
  };
  replace(main, h("p", { class: "crumbs" }, link("/ui/sweeps", "Sweeps")), title, body);
  const tick = async () => {
    if (await refresh()) setTimeout(tick, REFRESH_MS);
  };
  await tick();
}
