"""The README's Results section, rendered from a small fake results directory."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bench.render_readme import END, START, main, render_results, with_results

QUALITY = {
    "dense": {"mean": 0.981234, "std": 0.004321},
    "results": [
        {"method": "shears", "sparsity": 0.75, "mean": 0.975512, "std": 0.0021, "accuracies": [1]},
        {"method": "tfmot", "sparsity": 0.75, "mean": 0.970017, "std": 0.0034, "accuracies": [1]},
    ],
    "machine": {"python": "3.11.7", "cpus": 2},
}
OTHER = {
    "conclusion": "Large-sparse wins at every sparsity measured, by a margin the seeds' spread "
    "cannot explain, so the paper's conclusion holds on this data.",
    "methods": {"dense": {"median_ms": 12.5}, "shears": {"median_ms": 12.625}},
    "overhead": 1.01,
    "quick": False,
}
README = "# Project\n\nIntro that must survive.\n"


@pytest.fixture
def results(tmp_path: Path) -> Path:
    directory = tmp_path / "bench" / "results"
    directory.mkdir(parents=True)
    (directory / "quality.json").write_text(json.dumps(QUALITY))
    (directory / "quality.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (directory / "zz_other.json").write_text(json.dumps(OTHER))
    return directory


def numbers(text: str) -> set[str]:
    return set(re.findall(r"\d+(?:\.\d+)?", text))


def test_every_number_shown_is_one_a_result_file_holds(results: Path, tmp_path: Path) -> None:
    section = render_results(results, tmp_path)
    held = numbers(json.dumps(QUALITY) + json.dumps(OTHER))
    assert numbers(section) - held == set()
    assert "| shears | 0.75 | 0.975512 | 0.0021 |" in section
    assert "| tfmot | 0.75 | 0.970017 | 0.0034 |" in section


def test_objects_of_objects_become_one_table_and_long_texts_paragraphs(
    results: Path, tmp_path: Path
) -> None:
    section = render_results(results, tmp_path)
    assert "| dense | 12.5 |" in section and "| shears | 12.625 |" in section
    assert f"**conclusion**: {OTHER['conclusion']}" in section
    assert "| overhead | 1.01 |" in section and "| quick | false |" in section


def test_known_results_come_first_with_their_image_linked_from_the_readme(
    results: Path, tmp_path: Path
) -> None:
    section = render_results(results, tmp_path)
    assert section.index("### Accuracy against sparsity") < section.index("### Zz other")
    assert "](bench/results/quality.png)" in section
    assert "zz_other.png" not in section


def test_a_readme_without_markers_gets_a_results_section_at_its_end() -> None:
    updated = with_results(README, "table\n")
    assert updated.startswith(README)
    assert updated.endswith(f"## Results\n\n{START}\ntable\n{END}\n")


def test_rendering_again_replaces_only_what_lies_between_the_markers() -> None:
    first = with_results(README, "old\n") + "\nFooter kept.\n"
    second = with_results(first, "new\n")
    assert "old" not in second
    assert second == first.replace(f"{START}\nold\n{END}", f"{START}\nnew\n{END}")
    assert with_results(second, "new\n") == second


def test_the_command_rewrites_the_readme_in_place(results: Path, tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(README)
    main(["--readme", str(readme), "--results", str(results)])
    text = readme.read_text()
    assert text.startswith(README)
    assert "0.981234" in text and text.count(START) == 1 and text.count(END) == 1
