"""README section on pruning's fixed cost where steps are cheap (small_model_overhead.json):
the trainer's command line, pruned against never pruned, and the same for the code before the
change when the run measured it alongside."""

from __future__ import annotations

from bench.readme_format import Payload, Section, ratio, table, verdict

MEASURES = {"wall": "wall", "cpu": "CPU", "training_loop": "fine-tune loop"}


def _rows(s: Payload) -> list[list[str]]:
    codes = [("", "this code")]
    if s.get("baseline_commit"):
        codes.append(("baseline_", f"before (commit {s['baseline_commit'].split()[0]})"))
    rows = []
    for prefix, label in codes:
        for key, measure in MEASURES.items():
            part = s.get(f"{prefix}{key}")
            if part is None:
                continue
            rows.append(
                [
                    label,
                    measure,
                    f"{part['dense_median']:.1f}",
                    f"{part['pruned_median']:.1f}",
                    ratio(part["ratio_of_medians"]),
                    ratio(part["paired_median_ratio"]),
                ]
            )
    return rows


# Pruned runs do all a dense run does and more: below this the wall ratio is noise.
NOISE_BELOW = 0.95


def small_model_overhead(s: Payload) -> Section:
    goal, wall = s["goal_wall_ratio"], s["wall"]["ratio_of_medians"]
    met = wall <= goal
    lines = [
        f"The trainer's command line on the digits CNN (8x8 inputs, batch {s['batch_size']}, "
        f"{s['steps']} steps of a few ms), once pruning to {s['target_sparsity']:.0%} with a "
        f"mask update every {s['pruning_frequency']} steps and once with pruning never "
        f"starting; {s['repeats']} runs of each, alternating. Seconds are medians; ratios are "
        "pruned over never pruned, of the medians and the median of each pair.",
        "",
        *table(["code", "measure", "dense s", "pruned s", "pruned/dense", "paired"], _rows(s)),
        "",
        f"Goal: pruned/dense wall time ≤ {goal}. This run: {verdict(met)} ({ratio(wall)}).",
        "",
    ]
    if wall < NOISE_BELOW:
        cpu = s["cpu"]["ratio_of_medians"]
        lines += [
            "Pruning cannot make a run faster: a wall ratio this far below 1 is the spread of "
            "the wall times (some runs of either kind wait seconds longer for the same CPU "
            f"seconds), so the CPU ratio, {ratio(cpu)}, is the one to read against the goal.",
            "",
        ]
    load = (s.get("load_average_1min_before"), s.get("load_average_1min_after"))
    if None not in load:
        cpus = s.get("machine", {}).get("cpus", "?")
        lines += [
            f"The machine's 1-minute load average was {load[0]} before the run and {load[1]} "
            f"after it, on {cpus} cores: where it is above the core count, the wall times "
            "include waiting for other work, and the CPU seconds are the steadier measure.",
            "",
        ]
    shortfalls = [] if met else [f"Small-model overhead: wall ratio {ratio(wall)} > {goal}."]
    return Section(lines, shortfalls)
