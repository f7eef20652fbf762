"""Screenshots of the dashboard's main pages for the README (docs/screenshots/), taken from a
running service (`make run`) with a real job on the digits data.

    .venv/bin/python -m tests.ui.screenshots --url URL --key-file DATA_DIR/dev-api-key
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import httpx
from PIL import Image
from playwright.sync_api import Page, sync_playwright

from tests.e2e import builders
from tests.e2e.jobs_api import events, submit, upload
from tests.ui.browser import CHROMIUM_ARGS, find_chromium

OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
LAPTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}


def prepare(client: httpx.Client, workdir: Path) -> dict[str, str]:
    model = upload(client, "models", builders.keras_file(workdir / "digits-mlp.keras"))
    dataset = upload(client, "datasets", builders.digits_npz(workdir / "digits.npz"))
    job = submit(
        client,
        {
            "model_id": model["id"],
            "dataset_id": dataset["id"],
            "name": "digits MLP at 80 %",
            "hparams": {
                "target_sparsity": 0.8,
                "threshold_decay": 0.0,
                "pruning_frequency": 5,
                "sparsity_function_end_step": 60,
            },
            "training": {"steps": 120},
        },
    )
    list(events(client, job["id"]))
    return {"model": model["id"], "dataset": dataset["id"], "job": job["id"]}


def save(page: Page, name: str, full: bool) -> None:
    path = OUT / f"{name}.png"
    page.screenshot(path=str(path), full_page=full)
    # A palette PNG: a few tens of kilobytes instead of hundreds, fine for flat UI colours.
    Image.open(path).convert("RGB").quantize(colors=128).save(path, optimize=True)


def shoot(
    page: Page, url: str, name: str, viewport: dict[str, int], full: bool = True, at: str = ""
) -> None:
    page.set_viewport_size(viewport)
    page.goto(url)
    page.locator("main h1").wait_for()
    page.locator("main .loading").wait_for(state="detached")
    page.wait_for_timeout(1500)  # the job page's stream and report image
    if at:
        page.locator(at).scroll_into_view_if_needed()
    save(page, name, full)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--key-file", type=Path, required=True)
    args = parser.parse_args()
    key = args.key_file.read_text().strip()
    headers = {"Authorization": f"Bearer {key}"}
    with (
        tempfile.TemporaryDirectory() as tmp,
        httpx.Client(base_url=args.url, headers=headers, timeout=120) as client,
    ):
        ids = prepare(client, Path(tmp))
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=find_chromium(), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport=LAPTOP)
        page.goto(f"{args.url}/ui/")
        shoot(page, f"{args.url}/ui/", "key", LAPTOP, full=False)
        page.fill("#api-key", key)
        page.click("form.key-form button[type=submit]")
        page.wait_for_selector("form.key-form", state="detached")
        shoot(page, f"{args.url}/ui/models/{ids['model']}", "model", LAPTOP)
        shoot(page, f"{args.url}/ui/jobs/{ids['job']}", "job", LAPTOP)
        shoot(page, f"{args.url}/ui/jobs", "jobs", LAPTOP, full=False)
        page.goto(f"{args.url}/ui/jobs/new?model_id={ids['model']}&dataset_id={ids['dataset']}")
        page.fill("#hparams-target_sparsity", "1.5")
        page.click("#job-form button[type=submit]")
        page.locator("#hparams-target_sparsity-error").wait_for()
        page.locator("#hparams-begin_pruning_step").scroll_into_view_if_needed()
        save(page, "job-form-error", full=False)
        job_url = f"{args.url}/ui/jobs/{ids['job']}"
        shoot(page, job_url, "job-phone", PHONE, full=False, at="#loss-chart")
        browser.close()


if __name__ == "__main__":
    main()
