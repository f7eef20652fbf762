"""A person's way through the dashboard: paste a key, upload a model and a dataset, get a form
error next to its field, submit a job, watch its chart reach the target, download the result."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest
import tensorflow as tf

from tests.e2e.conftest import Service
from tests.ui.conftest import paste_key

# Without playwright the `browser` fixture skips (or fails under CI); collection must not break.
if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

TARGET = 0.8
JOB_DONE_MS = 180_000


def test_a_wrong_key_is_refused_clearly_and_a_good_one_is_kept_for_the_tab(
    page: Page, service: Service
) -> None:
    page.goto(f"{service.base_url}/ui/models")
    page.fill("#api-key", "shr_not-a-real-key")
    page.click("form.key-form button[type=submit]")
    error = page.locator("#api-key-error")
    error.wait_for()
    assert "refused" in error.text_content()
    assert "not valid" in error.text_content()  # the API's own message
    assert page.evaluate("sessionStorage.getItem('shears.apiKey')") is None

    paste_key(page, service.api_key)
    assert page.locator("h1").text_content() == "Models"
    assert page.evaluate("sessionStorage.getItem('shears.apiKey')") == service.api_key
    page.reload()
    page.locator("h1", has_text="Models").wait_for()
    assert service.api_key not in page.url
    assert page.locator("#api-key").count() == 0


def test_uploading_a_model_and_a_dataset_shows_what_the_api_found(
    signed_in: Page, service: Service, files: dict[str, Path]
) -> None:
    page = signed_in
    page.goto(f"{service.base_url}/ui/models")
    page.set_input_files("#model-upload-file", str(files["model"]))
    page.fill("#model-upload-name", "digits mlp")
    page.click("form.upload-form button[type=submit]")
    page.wait_for_url(re.compile(r"/ui/models/mdl_\w+$"))
    assert page.locator("h1").text_content() == "digits mlp"
    weights = page.locator("table", has=page.locator("caption", has_text="Prunable weights"))
    assert "hidden/kernel" in weights.text_content()
    assert "[64, 64]" in weights.text_content()
    model_id = page.url.rsplit("/", 1)[1]
    with service.client() as client:
        assert client.get(f"/v1/models/{model_id}").json()["name"] == "digits mlp"

    page.goto(f"{service.base_url}/ui/datasets")
    page.set_input_files("#dataset-upload-file", str(files["dataset"]))
    page.click("form.upload-form button[type=submit]")
    page.wait_for_url(re.compile(r"/ui/datasets/ds_\w+$"))
    arrays = page.locator("table").text_content()
    assert "x_train" in arrays and "[1400, 64]" in arrays


def test_the_apis_error_appears_next_to_the_field_it_names(
    signed_in: Page, service: Service, uploaded: dict[str, Any]
) -> None:
    page = signed_in
    query = f"model_id={uploaded['model']['id']}&dataset_id={uploaded['dataset']['id']}"
    page.goto(f"{service.base_url}/ui/jobs/new?{query}")
    field = page.locator("#hparams-target_sparsity")
    assert field.input_value() == "0.5"  # the default, from the contract via /openapi.json
    help_text = page.locator("#hparams-target_sparsity-help").text_content()
    assert "Sparsity from sparsity_function_end_step on" in help_text
    field.fill("1.5")
    with service.client() as client:
        before = client.get("/v1/jobs").json()["count"]
        api = client.post(
            "/v1/jobs",
            json={
                "model_id": uploaded["model"]["id"],
                "dataset_id": uploaded["dataset"]["id"],
                "hparams": {"target_sparsity": 1.5},
            },
        ).json()["error"]
    page.click("#job-form button[type=submit]")
    error = page.locator("#hparams-target_sparsity-error")
    error.wait_for()
    assert error.text_content() == api["details"][0]["message"]
    assert field.get_attribute("aria-invalid") == "true"
    assert page.locator("#hparams-threshold_decay-error").text_content() == ""
    assert api["message"] in page.locator(".form-summary").text_content()
    with service.client() as client:
        assert client.get("/v1/jobs").json()["count"] == before


def zero_fraction_of_kernels(archive: Path, into: Path) -> list[float]:
    zipfile.ZipFile(archive).extractall(into)
    (saved_model,) = {p.parent for p in into.rglob("saved_model.pb")}
    loaded = tf.saved_model.load(str(saved_model))
    serve = loaded.signatures["serving_default"]
    return [float(np.mean(v.numpy() == 0)) for v in serve.variables if len(v.shape) >= 2]


def test_a_job_submitted_from_the_form_is_watched_to_its_target_and_downloaded(
    signed_in: Page, service: Service, uploaded: dict[str, Any], tmp_path: Path
) -> None:
    page = signed_in
    page.goto(f"{service.base_url}/ui/jobs/new")
    page.select_option("#job-model", uploaded["model"]["id"])
    page.select_option("#job-dataset", uploaded["dataset"]["id"])
    page.fill("#job-name", "digits at 80 %")
    for name, value in {
        "hparams-target_sparsity": TARGET,
        "hparams-threshold_decay": 0,
        "hparams-pruning_frequency": 5,
        "hparams-sparsity_function_end_step": 30,
        "training-steps": 60,
    }.items():
        page.fill(f"#{name}", str(value))
    page.click("#job-form button[type=submit]")
    page.wait_for_url(re.compile(r"/ui/jobs/job_\w+$"))
    job_id = page.url.rsplit("/", 1)[1]

    page.locator("#job-status .status-succeeded").wait_for(timeout=JOB_DONE_MS)
    achieved = page.locator("#sparsity-chart ~ .legend li[data-series=achieved]")
    assert re.fullmatch(r"achieved 80\.\d % at step 60", achieved.text_content())
    drawn = int(
        page.locator("#sparsity-chart polyline[data-series=achieved]").get_attribute("data-count")
    )
    assert drawn >= 5  # drawn from the stream's progress events, step by step
    layers = page.locator("table", has=page.locator("caption", has_text="Per-layer sparsity"))
    assert "hidden/kernel" in layers.text_content()
    assert (
        "accuracy"
        in page.locator(
            "table", has=page.locator("caption", has_text="before and after")
        ).text_content()
    )

    with page.expect_download() as download_info:
        page.click("text=Download pruned SavedModel (.zip)")
    download = download_info.value
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    with service.client() as client:
        api_bytes = client.get(f"/v1/jobs/{job_id}/model?format=zip").content
    assert saved.read_bytes() == api_bytes
    for zeros in zero_fraction_of_kernels(saved, tmp_path / "pruned"):
        assert zeros == pytest.approx(TARGET, abs=0.02)
