"""Renders bench/results/*.json into the README's Results section, between the markers
`<!-- results:start -->` and `<!-- results:end -->` (appended under a "Results" heading at
the end of the README when missing); nothing else in the README changes.

Every value is printed exactly as its JSON file holds it: the README never shows a number
that a benchmark did not write. Long texts become paragraphs, other single values a key/value
table, lists of objects (and objects of objects) tables; `<name>.png` beside `<name>.json`
is linked as an image.

    python -m bench.render_readme [--readme README.md] [--results bench/results]
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from bench.common import RESULTS_DIR

START, END = "<!-- results:start -->", "<!-- results:end -->"
README = Path(__file__).resolve().parent.parent / "README.md"
LONG_TEXT = 100  # characters: longer strings are paragraphs, not table cells

# Known results first, in this order and with these titles; any other JSON after them.
SECTIONS = {
    "quality": "Accuracy against sparsity: Shears and tfmot (digits)",
    "large_sparse": "Large-sparse against small-dense (digits)",
    "size": "What the zeros buy on disk",
    "engine_overhead": "Cost of pruning per training step (CIFAR-10 net)",
    "mask_update": "One mask update of one large layer",
    "service": "The service's own speed",
}


def cell(value: Any) -> str:
    """A JSON value as it is in the file (numbers verbatim), safe inside a Markdown table."""
    if isinstance(value, str):
        text = value
    elif isinstance(value, list):
        text = ", ".join(cell(v) for v in value)
    else:
        text = json.dumps(value)
    return text.replace("|", "\\|").replace("\n", " ")


def is_scalar(value: Any) -> bool:
    return not isinstance(value, (dict, list))


def table(header: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]


def records_table(records: list[dict[str, Any]]) -> list[str]:
    """One row per record; a column per key holding a scalar in some record."""
    columns: list[str] = []
    for record in records:
        columns += [k for k, v in record.items() if is_scalar(v) and k not in columns]
    return table(columns, [[r.get(c, "") for c in columns] for r in records])


class Section:
    """The parts of one result file, walked once: key/value pairs, tables, paragraphs."""

    def __init__(self, payload: dict[str, Any]) -> None:
        self.pairs: list[list[Any]] = []
        self.tables: list[tuple[str, list[dict[str, Any]]]] = []
        self.texts: list[tuple[str, str]] = []
        self.machine = payload.get("machine")
        self._walk({k: v for k, v in payload.items() if k != "machine"}, "")

    def _walk(self, value: Any, key: str) -> None:
        if isinstance(value, dict) and value and all(isinstance(v, dict) for v in value.values()):
            self.tables.append((key, [{"name": name, **row} for name, row in value.items()]))
        elif isinstance(value, dict):
            for name, item in value.items():
                self._walk(item, f"{key}.{name}" if key else name)
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            self.tables.append((key, value))
        elif isinstance(value, str) and len(value) > LONG_TEXT:
            self.texts.append((key, value))
        else:
            self.pairs.append([key, value])

    def markdown(self, title: str, image: str | None) -> list[str]:
        lines = [f"### {title}", ""]
        for key, text in self.texts:
            lines += [f"**{key}**: {cell(text)}", ""]
        if self.pairs:
            lines += [*table(["field", "value"], self.pairs), ""]
        for key, records in self.tables:
            lines += [f"`{key}`:", "", *records_table(records), ""]
        if image:
            lines += [f"![{title}]({image})", ""]
        if isinstance(self.machine, dict):
            described = ", ".join(f"{k} {cell(v)}" for k, v in self.machine.items())
            lines += [f"<sub>Measured on: {described}.</sub>", ""]
        return lines


def result_names(results_dir: Path) -> list[str]:
    present = sorted(p.stem for p in results_dir.glob("*.json"))
    return [n for n in SECTIONS if n in present] + [n for n in present if n not in SECTIONS]


def render_results(results_dir: Path, readme_dir: Path) -> str:
    """The Markdown between the markers, with image links relative to `readme_dir`."""
    lines = [
        "Rendered by `python -m bench.render_readme` from the JSON files in "
        f"`{Path(os.path.relpath(results_dir, readme_dir)).as_posix()}`; "
        "`make bench` reruns the benchmarks and this section.",
        "",
    ]
    for name in result_names(results_dir):
        payload = json.loads((results_dir / f"{name}.json").read_text())
        png = results_dir / f"{name}.png"
        image = Path(os.path.relpath(png, readme_dir)).as_posix() if png.exists() else None
        title = SECTIONS.get(name, name.replace("_", " ").capitalize())
        lines += Section(payload).markdown(title, image)
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
