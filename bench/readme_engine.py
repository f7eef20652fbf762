"""README sections on the engine's own costs: time per training step (engine_overhead.json),
one mask update (mask_update.json) and the pruned model's size on disk (size.json)."""

from __future__ import annotations

from typing import Any

from bench.readme_format import (
    Payload,
    Section,
    count,
    ms,
    ratio,
    sparsity,
    table,
    times,
    verdict,
)

OVERHEAD_GOAL = 1.05  # the issue's goal: Shears' step at most 5% slower than dense, below tfmot
STEP_METHODS = {
    "dense": "dense (Keras 3 `fit`)",
    "shears": "Shears",
    "tfmot": "tfmot",
    "tf_keras_dense": "dense (tf-keras `fit`, tfmot's own baseline)",
}


def _cell(value: Any, style: Any) -> str:
    return "—" if value is None else style(value)


def _step_row(name: str, method: Payload, e: Payload) -> list[str]:
    overheads = [e.get(f"{name}_overhead{kind}") for kind in ("", "_mean", "_paired")]
    return [
        STEP_METHODS.get(name, name),
        _cell(method.get("median_ms"), ms),
        _cell(method.get("mean_ms"), ms),
        _cell(method.get("p90_ms"), ms),
        *(_cell(value, ratio) for value in overheads),
    ]


def _overhead_goal(e: Payload) -> tuple[str, bool]:
    """The goal judged on every overhead measure the run recorded (median, paired)."""
    judged = []
    for kind, label in (("", "median"), ("_paired", "paired")):
        shears, tfmot = e.get(f"shears_overhead{kind}"), e.get(f"tfmot_overhead{kind}")
        if shears is not None and tfmot is not None:
            met = shears <= OVERHEAD_GOAL and shears < tfmot
            judged.append((met, f"{label} {ratio(shears)} against tfmot's {ratio(tfmot)}"))
    met = all(m for m, _ in judged)
    words = "; ".join(text for _, text in judged)
    return (
        f"Goal: Shears' overhead ≤ {OVERHEAD_GOAL} and below tfmot's. "
        f"This run: {verdict(met)} ({words}).",
        met,
    )


def _noise(e: Payload) -> str | None:
    before, after = e.get("load_average_1min_before"), e.get("load_average_1min_after")
    if before is None or after is None:
        return None
    return f"the 1-minute load average was {before} before the run and {after} after it"


def engine_overhead(e: Payload) -> Section:
    methods = e["methods"]
    lines = [
        f"Setup: {e['model']} ({count(e['params'])} parameters), batch {e['batch_size']}, "
        f"{e['data']}, pruning to {sparsity(e['target_sparsity'])} with masks updated every "
        f"{e['pruning_frequency']} steps. Each method runs in its own process; they take turns "
        f"of {e['steps_per_turn']} steps for {e['turns']} turns so the machine's load drifts on "
        "all alike. Overheads are ratios to dense Keras 3: of the median step, of the mean step "
        "(mask updates included), and paired (median over turns of the per-turn ratio).",
        "",
        *table(
            [
                "",
                "median ms/step",
                "mean ms/step",
                "p90 ms/step",
                "overhead (median)",
                "overhead (mean)",
                "overhead (paired)",
            ],
            [_step_row(name, methods[name], e) for name in STEP_METHODS if name in methods],
        ),
        "",
    ]
    goal, met = _overhead_goal(e)
    noise = _noise(e)
    lines += [f"- {goal}"]
    if noise:
        lines += [f"- Noise: {noise}; compare the p90 column with the median."]
    shortfalls = [] if met else [f"Step overhead: {goal}"]
    if e.get("shears_overhead", 1) < 1:
        shortfalls.append(
            "Step overhead: a ratio below 1 reads as no overhead this shared machine can "
            "resolve, not as a speed-up" + (f" ({noise})." if noise else ".")
        )
    return Section(lines + [""], shortfalls)


def mask_update(m: Payload) -> Section:
    rows = [
        [
            count(layer["weights"]),
            ms(layer["shears_ms"]),
            ms(layer["tfmot_ms"]),
            times(layer["speedup"]),
        ]
        for layer in m["layers"]
    ]
    lines = [
        f"One mask update of one layer to sparsity {sparsity(m['sparsity'])}, both tools in one "
        "process on the same weights (Shears: an exact k-th magnitude by `np.partition`; tfmot: "
        "`tf.math.top_k` inside a `tf.function`).",
        "",
        *table(["weights", "Shears ms", "tfmot ms", "speed-up"], rows),
        "",
    ]
    return Section(lines)


def size(s: Payload) -> Section:
    rows = [
        [
            m["model"],
            sparsity(m["sparsity"]),
            f"{count(m['nonzero_params'])} of {count(m['params'])}",
            count(m["weight_bytes"]),
            count(m["upload_bytes"]),
            count(m["pruned_bytes"]),
            f"{m['raw_ratio']:.2f}",
            f"{m['gzip_ratio']:.2f}",
        ]
        for m in s["models"]
    ]
    lines = [
        "The SavedModel a job returns against the upload (a .keras file) and against the same "
        "model exported dense: bytes on disk and bytes of its tar.gz. Each weight is stored "
        "once, so the raw SavedModel is about as large as its float32 weights; a .keras file "
        "also holds its optimizer's state when the model was trained (the digits CNN).",
        "",
        *table(
            [
                "model",
                "sparsity",
                "nonzero params",
                "weight bytes",
                "upload bytes",
                "pruned bytes",
                "raw pruned/dense",
                "gzip pruned/dense",
            ],
            rows,
        ),
        "",
    ]
    shortfalls = []
    if all(m["raw_ratio"] >= 0.99 for m in s["models"]):
        shortfalls.append(
            "Size: the pruned SavedModel is as large as the dense one on disk (zeros are stored "
            "as zeros); only compressing it (gzip) turns sparsity into smaller files."
        )
    return Section(lines, shortfalls)


MEMORY_RUNS = {"baseline": "before (commit {commit})", "shears": "Shears"}


def _gib(value: int) -> str:
    return f"{value / (1 << 30):.2f} GiB"


def trainer_memory(t: Payload) -> Section:
    runs, commit = t["runs"], (t.get("baseline_commit") or "")[:7]
    rows = [
        [
            MEMORY_RUNS[name].format(commit=commit),
            _gib(run["peak_rss_bytes"]),
            f"{run['peak_ratio']:.2f}",
            f"{run['wall_seconds']:.0f}",
        ]
        for name, run in ((n, runs[n]) for n in MEMORY_RUNS if n in runs)
    ]
    footprint = t["dataset_bytes"] + t["model_bytes"]
    training = t["training"]
    lines = [
        f"The trainer's command line on a synthetic uncompressed .npz of "
        f"{_gib(t['dataset_bytes'])} ({count(t['rows'])} rows of {t['features']} float32 "
        f"features) and a {count(t['model_bytes'])}-byte .keras model: epochs "
        f"{training.get('epochs', 1)} at batch {training['batch_size']}, so every row is read; "
        "validation held out by "
        "validation_split. Peak resident memory of the trainer and its children (sampled, and "
        "the kernel's high-water mark), as a ratio to dataset plus model bytes; the earlier "
        "code runs from a `git worktree` of its commit in the same run.",
        "",
        *table(["trainer", "peak RSS", "peak / (dataset + model)", "wall s"], rows),
        "",
    ]
    ratio = runs["shears"]["peak_ratio"]
    big_enough = t["dataset_bytes"] >= 2 << 30
    met = ratio <= t["goal_ratio"] and big_enough
    goal = (
        f"Goal: peak ≤ {t['goal_ratio']}× dataset + model ({_gib(footprint)}) on a dataset of at "
        f"least 2 GiB. This run: {verdict(met)} ({ratio:.2f}×)."
    )
    lines += [f"- {goal}", ""]
    return Section(lines, [] if met else [f"Trainer memory: {goal}"])
