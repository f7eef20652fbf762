"""Renders bench/results/*.json into the README's Results section, between the markers
`<!-- results:start -->` and `<!-- results:end -->` (appended under a "Results" heading at
the end of the README when missing); nothing else in the README changes.

Each known result file has a small renderer (bench/readme_*.py) that shows what a user choosing
a pruning tool wants to see; every number is one its file holds, rounded, or a labelled ratio
of two. A missing file leaves its section out; an unknown one, or one its renderer cannot read,
gets one line linking it. "Where it falls short" collects each section's unmet goals and caveats.

    python -m bench.render_readme [--readme README.md] [--results bench/results]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

from bench import (
    readme_accuracy,
    readme_channels,
    readme_engine,
    readme_payoff,
    readme_service,
    readme_small_model,
)
from bench.common import RESULTS_DIR
from bench.readme_format import Payload, Section

START, END = "<!-- results:start -->", "<!-- results:end -->"
README = Path(__file__).resolve().parent.parent / "README.md"

Renderer = Callable[[Payload], Section]
# Known results, in this order, with their titles.
SECTIONS: dict[str, tuple[str, Renderer]] = {
    "quality": ("Accuracy against sparsity: Shears and tfmot", readme_accuracy.quality),
    "engine_overhead": ("Time per training step", readme_engine.engine_overhead),
    "mask_update": ("One mask update", readme_engine.mask_update),
    "small_model_overhead": (
        "Pruning's fixed cost on a small, fast model",
        readme_small_model.small_model_overhead,
    ),
    "trainer_memory": ("The trainer's memory on a large dataset", readme_engine.trainer_memory),
    "size": ("Size on disk", readme_engine.size),
    "payoff": ("Smaller and faster: TFLite exports", readme_payoff.payoff),
    "large_sparse": ("Large-sparse against small-dense", readme_accuracy.large_sparse),
    "service": ("The service's own cost", readme_service.service),
    "service_load": ("The API under load", readme_service.service_load),
    "channels": ("Channel pruning and distillation", readme_channels.channels),
}


def result_names(results_dir: Path) -> list[str]:
    present = sorted(p.stem for p in results_dir.glob("*.json"))
    return [n for n in SECTIONS if n in present] + [n for n in present if n not in SECTIONS]


def _relative(path: Path, readme_dir: Path) -> str:
    return Path(os.path.relpath(path, readme_dir)).as_posix()


def _intro(payloads: dict[str, Payload], results: str) -> str:
    cpus = {p.get("machine", {}).get("cpus") for p in payloads.values()} - {None}
    machine = f"a {cpus.pop()}-core CPU machine" if len(cpus) == 1 else "CPU machines"
    return (
        "`make bench` reruns every benchmark and renders this section from the JSON files in "
        f"[`{results}`]({results}) (`make bench-quick` for a shorter run). The numbers come from "
        f"{machine} shared with other work, so only side-by-side ratios mean anything."
    )


def _caveats(title: str, payload: Payload) -> list[str]:
    """What a result file says about itself in a `caveats` text or list."""
    caveats = payload.get("caveats", [])
    return [f"{title}: {c}" for c in ([caveats] if isinstance(caveats, str) else caveats)]


def _quick_runs(payloads: dict[str, Payload]) -> list[str]:
    titles = [SECTIONS[n][0] for n, p in payloads.items() if n in SECTIONS and p.get("quick")]
    if not titles:
        return []
    return [f"Quick runs (`--quick`, smaller than the full benchmark): {'; '.join(titles)}."]


def _section(name: str, payload: Payload, results_dir: Path, readme_dir: Path) -> Section:
    """The section's Markdown under its heading, or one line linking a file it cannot show."""
    title, renderer = SECTIONS.get(name, (None, None))
    try:
        section = renderer(payload) if renderer else None
    except (KeyError, TypeError, ValueError, IndexError) as error:
        # A half-written or older file must not stop `make bench` from rendering the rest.
        print(f"{name}.json: only linked, its renderer failed: {error!r}", file=sys.stderr)
        section = None
    if title is None or section is None:
        link = _relative(results_dir / f"{name}.json", readme_dir)
        return Section([f"Other results: [`{name}.json`]({link}).", ""])
    quick = " (quick run)" if payload.get("quick") else ""
    png = results_dir / f"{name}.png"
    figure = [f"![{title}]({_relative(png, readme_dir)})", ""] if png.exists() else []
    lines = [f"### {title}{quick}", "", *section.lines, *figure]
    return Section(lines, section.shortfalls + _caveats(title, payload))


def render_results(results_dir: Path, readme_dir: Path) -> str:
    """The Markdown between the markers, with links relative to `readme_dir`."""
    payloads = {
        name: json.loads((results_dir / f"{name}.json").read_text())
        for name in result_names(results_dir)
    }
    sections = [_section(n, p, results_dir, readme_dir) for n, p in payloads.items()]
    intro = _intro(payloads, _relative(results_dir, readme_dir))
    lines = [intro, ""] + [line for s in sections for line in s.lines]
    shortfalls = [f"- {f}" for s in sections for f in s.shortfalls]
    shortfalls += [f"- {f}" for f in _quick_runs(payloads)]
    if shortfalls:
        lines += ["### Where it falls short", "", *shortfalls]
    return "\n".join(lines).rstrip() + "\n"


def with_results(readme: str, section: str) -> str:
    """`readme` with `section` between the markers; markers appended at the end if absent."""
    block = f"{START}\n{section}{END}"
    if START in readme and END in readme.split(START, 1)[1]:
        before, rest = readme.split(START, 1)
        return before + block + rest.split(END, 1)[1]
    return readme.rstrip("\n") + f"\n\n## Results\n\n{block}\n"


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--readme", type=Path, default=README)
    parser.add_argument("--results", type=Path, default=RESULTS_DIR)
    args = parser.parse_args(argv)
    section = render_results(args.results.resolve(), args.readme.resolve().parent)
    args.readme.write_text(with_results(args.readme.read_text(), section))
    print(f"rendered {len(result_names(args.results))} result files into {args.readme}")
    return args.readme


if __name__ == "__main__":
    main()
