import { api, fetchBlob } from "../api.js";
import { LineChart } from "../chart.js";
import { actionButton, errorBox, facts, fmt, h, link, replace, statusBadge, uiPath, v1Path } from "../dom.js";
import { downloadList } from "../downloads.js";
import { followJobEvents } from "../events.js";
import { exportsTable, layerTable, metricsTable, sizeTable } from "../job_results.js";
import { sensitivityResults } from "../sensitivity.js";

const ACTIVE = new Set(["queued", "running"]);

function charts() {
  return {
    sparsity: new LineChart({
      id: "sparsity-chart",
      title: "Sparsity against step",
      series: [
        { name: "target", label: "target", className: "series-target" },
        { name: "achieved", label: "achieved", className: "series-achieved" },
      ],
      yFormat: fmt.pct,
      yMin: 0,
      yMax: 1,
    }),
    loss: new LineChart({
      id: "loss-chart",
      title: "Loss against step",
      series: [{ name: "loss", label: "loss", className: "series-loss" }],
      yFormat: (y) => fmt.num(y, 3),
    }),
  };
}

function downloads(job, model) {
  const base = v1Path("jobs", job.id);
  const stem = job.name || job.id;
  const items = [
    ["pruned SavedModel (.zip)", `${base}/model?format=zip`, `${stem}.zip`],
    ["pruned SavedModel (.tar.gz)", `${base}/model?format=tar.gz`, `${stem}.tar.gz`],
  ];
  if (model?.format === "keras") items.push(["pruned .keras file", `${base}/model?format=keras`, `${stem}.keras`]);
  for (const name of Object.keys(job.metrics?.exports || {})) items.push([`${name} export (.tflite)`, `${base}/model?format=${name}`, `${stem}.${name}.tflite`]);
  items.push(["metrics (JSON)", `${base}/metrics`, `${stem}.metrics.json`]);
  items.push(["TensorBoard event files", `${base}/tensorboard`, `${stem}.tensorboard.tar.gz`]);
  items.push(["report (PNG)", `${base}/report.png`, `${stem}.report.png`]);
  return downloadList(items);
}

async function reportImage(job) {
  const { blob } = await fetchBlob(`${v1Path("jobs", job.id)}/report.png`);
  return h("img", { src: URL.createObjectURL(blob), alt: "The job's report: sparsity and loss against step", class: "report" });
}

async function results(job) {
  if (job.status !== "succeeded" || !job.metrics) return job.error ? errorBox(job.error) : null;
  if (job.kind === "sensitivity") return [h("h2", {}, "Sensitivity"), sensitivityResults(job.metrics)];
  const model = job.model_id ? await api(v1Path("models", job.model_id)).catch(() => null) : null;
  return [
    h("h2", {}, "Before and after"),
    metricsTable(job.metrics),
    sizeTable(job.metrics),
    job.metrics.exports ? [h("h2", {}, "Exports"), exportsTable(job.metrics.exports)] : null,
    h("h2", {}, "Downloads"),
    downloads(job, model),
    await reportImage(job).catch(() => null),
  ];
}

export async function render(main, id) {
  let job = await api(v1Path("jobs", id));
  const status = h("span", { id: "job-status" });
  const connection = h("span", { id: "stream-state", class: "hint", role: "status" });
  const numbers = h("div", { id: "live-numbers" });
  const layers = h("div", { id: "layer-table" });
  const resultBox = h("div", { id: "job-results" });
  const cancelBox = h("div");
  const { sparsity, loss } = charts();

  const showJob = async () => {
    replace(status, statusBadge(job.status), job.cancel_requested && ACTIVE.has(job.status) ? " (cancel requested)" : "");
    replace(cancelBox, ACTIVE.has(job.status) ? actionButton("Cancel job", async () => {
      job = await api(`${v1Path("jobs", id)}/cancel`, { method: "POST" });
      await showJob();
      return "cancel requested";
    }) : null);
    const finalLayers = job.metrics?.sparsity?.layers;
    if (finalLayers) replace(layers, layerTable(finalLayers, "Per-layer sparsity of the pruned model"));
    replace(resultBox, await results(job));
  };

  const showProgress = (p) => {
    if (p.total_steps) sparsity.xMax = loss.xMax = p.total_steps;
    sparsity.add("target", p.step, p.target_sparsity);
    sparsity.add("achieved", p.step, p.achieved_sparsity);
    loss.add("loss", p.step, p.loss);
    sparsity.draw();
    loss.draw();
    replace(numbers, facts([
      ["Step", `${fmt.int(p.step)} of ${fmt.int(p.total_steps)}`],
      ["Epoch", fmt.num(p.epoch, 3)],
      ["Speed", p.steps_per_second ? `${fmt.num(p.steps_per_second, 3)} steps/s` : "—"],
      ["Time left", p.eta_seconds === null || p.eta_seconds === undefined ? "—" : `${Math.round(p.eta_seconds)} s`],
    ]));
    if (p.layers?.length && !job.metrics) replace(layers, layerTable(p.layers, "Per-layer sparsity, live"));
  };

  replace(
    main,
    h("p", { class: "crumbs" }, link("/ui/jobs", "Jobs")),
    h("h1", {}, job.name || `Job ${job.id}`),
    facts([
      ["Status", status],
      ["Kind", job.kind || "prune"],
      ["Model", job.model_id ? link(uiPath("models", job.model_id), job.model_id) : "deleted"],
      ["Dataset", job.dataset_id ? link(uiPath("datasets", job.dataset_id), job.dataset_id) : "deleted"],
      ["Created", fmt.time(job.created_at)],
      ["Attempts", job.attempts],
    ]),
    cancelBox,
    job.warnings.length ? h("ul", { class: "warnings" }, job.warnings.map((w) => h("li", {}, w))) : null,
    h("h2", {}, "Progress ", connection),
    numbers,
    h("div", { class: "charts" }, sparsity.element, loss.element),
    layers,
    resultBox,
    h("details", {}, h("summary", {}, "Resolved hparams and training"), h("pre", { class: "json" }, JSON.stringify({ hparams: job.hparams, training: job.training }, null, 2))),
  );
  await showJob();
  const states = { live: "live", reconnecting: "connection lost, reconnecting…", ended: "finished" };
  followJobEvents(id, async (type, data) => {
    if (type === "progress") showProgress(data);
    if (type === "status" || type === "metrics" || type === "error") {
      job = await api(v1Path("jobs", id));
      await showJob();
    }
  }, { onState: (s) => (connection.textContent = `(${states[s]})`) }).catch((err) => replace(connection, `(events unavailable: ${err.message})`));
}
