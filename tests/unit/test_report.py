from pathlib import Path

import matplotlib.image

from worker.report_plot import render_report


def test_report_is_a_png_of_the_expected_size(tmp_path: Path) -> None:
    progress = [
        {
            "step": step,
            "loss": 2.0 / (step + 1),
            "target_sparsity": min(0.8, step / 50),
            "achieved_sparsity": min(0.8, step / 55),
        }
        for step in range(0, 60, 5)
    ]
    path = render_report(progress, tmp_path / "report.png", "job_x")
    image = matplotlib.image.imread(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert image.shape[:2] == (600, 800)


def test_report_of_a_job_without_progress_still_renders(tmp_path: Path) -> None:
    path = render_report([{"step": 0, "loss": None}], tmp_path / "report.png", "job_y")
    assert matplotlib.image.imread(path).shape[:2] == (600, 800)
