"""bench/results/service_load.png: requests/s of every phase of bench.service_load in the order
they ran, GET /v1/jobs/{id} against /healthz, one panel per WEB_CONCURRENCY, with the machine's
1-minute load average after each phase.

    python -m bench.service_load_plot   # redraws it from bench/results/service_load.json
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, no display

import matplotlib.pyplot as plt  # noqa: E402

from bench.common import RESULTS_DIR  # noqa: E402

COLOURS = {"job": "tab:blue", "healthz": "tab:grey"}
LABELS = {"job": "GET /v1/jobs/{id}", "healthz": "GET /healthz"}


def service_load_plot(result: dict[str, Any], path: Path) -> Path:
    runs = result["runs"]
    figure, panels = plt.subplots(
        1, len(runs), figsize=(5 * len(runs), 4), dpi=100, sharey=True, squeeze=False
    )
    for axes, run in zip(panels[0], runs, strict=True):
        turns = run["turns"]
        for kind in ("job", "healthz"):
            mine = [
                (i, t["requests_per_second"]) for i, t in enumerate(turns) if t["phase"] == kind
            ]
            axes.bar(
                [i for i, _ in mine],
                [rate for _, rate in mine],
                color=COLOURS[kind],
                label=LABELS[kind],
            )
        load = axes.twinx()
        load.plot(range(len(turns)), [t["load_average_1m_after"] for t in turns], "k.--")
        load.set_ylabel("1-minute load average (dots)")
        load.set_ylim(bottom=0)
        ratio = run["job_over_healthz"]["requests_per_second"]
        axes.set_title(f"WEB_CONCURRENCY={run['web_concurrency']}: job ÷ /healthz {ratio:.3f}")
        axes.set_xlabel("phase, in the order run")
        axes.set_xticks(range(len(turns)))
    panels[0][0].set_ylabel("requests/s")
    panels[0][0].legend(loc="lower left")
    figure.suptitle(
        f"{result['pollers']} pollers, {result['listeners']} SSE listeners, "
        f"phases of {result['seconds_per_phase']:g} s"
    )
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    return path


def main() -> int:
    result = json.loads((RESULTS_DIR / "service_load.json").read_text())
    print(f"wrote {service_load_plot(result, RESULTS_DIR / 'service_load.png')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
