// A sensitivity job's results (API.md, "Sensitivity"): each layer's accuracy as it is pruned alone.
import { LineChart } from "./chart.js";
import { fmt, h, table } from "./dom.js";

export function sensitivityResults(metrics) {
  const layers = metrics.layers || [];
  const sparsities = [...new Set(layers.flatMap((l) => l.results.map((r) => r.sparsity)))].sort((a, b) => a - b);
  const chart = new LineChart({
    id: "sensitivity-chart",
    title: "Accuracy against sparsity, one layer pruned at a time",
    series: layers.map((l, i) => ({ name: l.name, label: l.name, className: `series-${i % 8}` })),
    yFormat: fmt.pct,
    xLabel: "sparsity",
    xFormat: fmt.pct,
  });
  for (const layer of layers) chart.setPoints(layer.name, layer.results.map((r) => [r.sparsity, r.accuracy]));
  chart.xMax = 1;
  chart.draw();
  const suggested = metrics.suggested_hparams || {};
  return [
    h("p", {}, `Baseline accuracy ${fmt.pct(metrics.baseline?.accuracy)}, loss ${fmt.num(metrics.baseline?.loss)}.`),
    chart.element,
    table(
      [["Weight", (l) => h("code", {}, l.name)], ["Params", (l) => fmt.int(l.params)], ...sparsities.map((s) => [`Drop at ${fmt.pct(s)}`, (l) => dropAt(l, s)])],
      layers,
      { caption: "Accuracy drop (points) when only this weight is pruned" },
    ),
    h("h3", {}, "Suggested hparams"),
    h("pre", { class: "json" }, JSON.stringify(suggested, null, 2)),
  ];
}

function dropAt(layer, sparsity) {
  const result = layer.results.find((r) => r.sparsity === sparsity);
  return result ? fmt.num(result.drop, 3) : "—";
}
