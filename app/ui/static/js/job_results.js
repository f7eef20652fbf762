// What a finished pruning job gives back (PRUNING.md sections 6 and 8), as tables.
import { fmt, h, table } from "./dom.js";

const change = (before, after) => (typeof before === "number" && typeof after === "number" ? fmt.num(after - before) : "—");

export function metricsTable(metrics) {
  const before = metrics.baseline || {};
  const after = metrics.pruned || {};
  const names = [...new Set([...Object.keys(before), ...Object.keys(after)])];
  return table(
    [
      ["Metric", (n) => n],
      ["Before", (n) => fmt.num(before[n])],
      ["After", (n) => fmt.num(after[n])],
      ["Change", (n) => change(before[n], after[n])],
    ],
    names,
    { caption: "Validation metrics before and after pruning" },
  );
}

export function sizeTable(metrics) {
  const size = metrics.size || {};
  const params = metrics.params || {};
  const training = metrics.training || {};
  return table(
    [
      ["", ([label]) => label],
      ["Value", ([, value]) => value],
    ],
    [
      ["Sparsity achieved (target)", `${fmt.pct(metrics.sparsity?.achieved)} (${fmt.pct(metrics.sparsity?.target)})`],
      ["Parameters: total / prunable / nonzero", `${fmt.int(params.total)} / ${fmt.int(params.prunable)} / ${fmt.int(params.nonzero)}`],
      ["SavedModel size, dense → pruned", `${fmt.bytes(size.dense_bytes)} → ${fmt.bytes(size.pruned_bytes)}`],
      ["Gzipped, dense → pruned", `${fmt.bytes(size.dense_gzip_bytes)} → ${fmt.bytes(size.pruned_gzip_bytes)}`],
      ["Training", `${fmt.int(training.steps)} steps in ${fmt.num(training.wall_seconds, 3)} s (${fmt.num(training.steps_per_second, 3)} steps/s)`],
    ],
    { caption: "Sizes, parameters and training" },
  );
}

export function layerTable(layers, caption) {
  return table(
    [
      ["Weight", (l) => h("code", {}, l.name)],
      ["Shape", (l) => (l.shape ? fmt.shape(l.shape) : "—")],
      ["Nonzero / params", (l) => (l.params ? `${fmt.int(l.nonzero)} / ${fmt.int(l.params)}` : "—")],
      ["Target", (l) => fmt.pct(l.target)],
      ["Achieved", (l) => fmt.pct(l.achieved)],
      ["Threshold", (l) => (l.threshold === undefined ? "—" : fmt.num(l.threshold))],
    ],
    layers,
    { caption },
  );
}

export function exportsTable(exports) {
  const latency = (e, which) => (e.latency_ms ? `${fmt.num(e.latency_ms[which], 3)} ms` : "—");
  return table(
    [
      ["Export", ([name]) => name],
      ["Size (gzip), pruned", ([, e]) => `${fmt.bytes(e.bytes)} (${fmt.bytes(e.gzip_bytes)})`],
      ["Size (gzip), dense", ([, e]) => `${fmt.bytes(e.dense_bytes)} (${fmt.bytes(e.dense_gzip_bytes)})`],
      ["Accuracy, pruned / dense", ([, e]) => `${fmt.num(e.accuracy)} / ${fmt.num(e.dense_accuracy)}`],
      ["Latency, pruned / dense", ([, e]) => `${latency(e, "pruned")} / ${latency(e, "dense")}`],
      ["Sparse / dense tensors", ([, e]) => `${e.sparse_tensors ?? "—"} / ${e.dense_tensors ?? "—"}`],
    ],
    Object.entries(exports),
    { caption: "Exports: the same file of the dense and of the pruned model, measured on the worker" },
  );
}
