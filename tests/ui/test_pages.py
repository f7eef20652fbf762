"""Every page as anyone meets it: hostile names stay text, every control has a label, a keyboard
is enough, and a phone's width needs no sideways scrolling."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from tests.e2e.conftest import Service
from tests.e2e.jobs_api import events, submit

# Without playwright the `browser` fixture skips (or fails under CI); collection must not break.
if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

HOSTILE = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">'
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def hostile_job(service: Service, uploaded: dict[str, Any]) -> dict[str, Any]:
    """A model and a job whose names are markup, put there through the public API."""
    with service.client() as client:
        original = client.get(f"/v1/models/{uploaded['model']['id']}/download")
        assert original.status_code == 200
        model = client.post(
            "/v1/models", files={"file": ("evil.keras", original.content)}, data={"name": HOSTILE}
        )
        assert model.status_code == 201, model.text
        body = {
            "model_id": model.json()["id"],
            "dataset_id": uploaded["dataset"]["id"],
            "name": HOSTILE,
            "training": {"steps": 5},
        }
        return submit(client, body)


def pages(hostile_job: dict[str, Any]) -> list[str]:
    return [
        "/ui/",
        "/ui/models",
        f"/ui/models/{hostile_job['model_id']}",
        "/ui/datasets",
        f"/ui/datasets/{hostile_job['dataset_id']}",
        "/ui/jobs",
        "/ui/jobs/new",
        f"/ui/jobs/{hostile_job['id']}",
    ]


def test_a_model_and_a_job_named_like_script_stay_text(
    signed_in: Page, service: Service, hostile_job: dict[str, Any]
) -> None:
    page = signed_in
    for path in pages(hostile_job):
        page.goto(service.base_url + path)
        page.locator("main h1").wait_for()
        page.locator("main .loading").wait_for(state="detached")
        assert page.evaluate("window.__pwned") is None, path
        assert page.locator("main script, main img[src=x]").count() == 0, path
    page.goto(f"{service.base_url}/ui/models/{hostile_job['model_id']}")
    assert page.locator("main h1").text_content() == HOSTILE
    page.goto(f"{service.base_url}/ui/jobs/{hostile_job['id']}")
    assert page.locator("main h1").text_content() == HOSTILE
    page.goto(f"{service.base_url}/ui/jobs")
    job_link = page.get_by_role("link", name=HOSTILE, exact=True)
    job_link.wait_for()
    assert job_link.count() == 1


UNLABELLED = """() => [...document.querySelectorAll('main input, main select, main textarea')]
  .filter(el => el.type !== 'hidden' && el.labels.length === 0 && !el.getAttribute('aria-label'))
  .map(el => el.id || el.name || el.outerHTML.slice(0, 60))"""


def test_every_control_has_a_label_and_nothing_overflows_a_phone(
    signed_in: Page, service: Service, hostile_job: dict[str, Any]
) -> None:
    page = signed_in
    for path in pages(hostile_job):
        for viewport in (PHONE, {"width": 1280, "height": 900}):
            page.set_viewport_size(viewport)
            page.goto(service.base_url + path)
            page.locator("main h1").wait_for()
            assert page.evaluate(UNLABELLED) == [], path
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, (path, viewport, overflow)


def test_the_key_and_a_job_form_work_from_the_keyboard(
    page: Page, service: Service, uploaded: dict[str, Any]
) -> None:
    page.goto(f"{service.base_url}/ui/jobs/new")
    assert page.evaluate("document.activeElement.id") == "api-key"
    page.keyboard.type(service.api_key)
    page.keyboard.press("Enter")
    page.locator("#job-model").wait_for()
    page.focus("#job-model")
    page.keyboard.press("ArrowDown")  # the first model
    page.keyboard.press("Tab")
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.id") == "job-dataset"
    assert page.input_value("#job-model") and page.input_value("#job-dataset")
    page.focus("#training-batch_size")
    page.keyboard.press("Control+A")
    page.keyboard.type("0")
    page.keyboard.press("Enter")  # submits the form
    error = page.locator("#training-batch_size-error")
    error.wait_for()
    assert "greater than or equal to 1" in error.text_content()
    assert page.evaluate("document.activeElement.id") == "training-batch_size"


def test_the_job_page_resumes_a_dropped_event_stream_where_it_left_off(
    signed_in: Page, service: Service, hostile_job: dict[str, Any]
) -> None:
    page = signed_in
    with service.client() as client:
        stream = list(events(client, hostile_job["id"]))
    cut = 2
    first_part = "".join(
        f"id: {e.id}\nevent: {e.type}\ndata: {json.dumps(e.data)}\n\n" for e in stream[:cut]
    )
    asked_after: list[str | None] = []

    def drop_the_first_connection(route: Any) -> None:
        asked_after.append(route.request.headers.get("last-event-id"))
        if len(asked_after) == 1:  # the server "closes" after two events, mid-job
            route.fulfill(status=200, content_type="text/event-stream", body=first_part)
        else:
            route.continue_()

    page.route("**/v1/jobs/*/events", drop_the_first_connection)
    page.goto(f"{service.base_url}/ui/jobs/{hostile_job['id']}")
    page.locator("#stream-state", has_text="finished").wait_for()
    assert asked_after == [None, str(stream[cut - 1].id)]
    losses = [e.data for e in stream if e.type == "progress" and e.data["loss"] is not None]
    steps = {p["step"] for p in losses}
    drawn = page.locator("#loss-chart polyline").get_attribute("data-count")
    assert steps and int(drawn) == len(steps)


def test_the_status_filter_lives_in_the_url(
    signed_in: Page, service: Service, hostile_job: dict[str, Any]
) -> None:
    page = signed_in
    with service.client() as client:
        list(events(client, hostile_job["id"]))  # until it has finished
        status = client.get(f"/v1/jobs/{hostile_job['id']}").json()["status"]
    page.goto(f"{service.base_url}/ui/jobs")
    page.select_option("#status-filter", status)
    page.click("form.filter button[type=submit]")
    page.wait_for_url(f"**/ui/jobs?status={status}")
    page.reload()
    assert page.input_value("#status-filter") == status
    page.get_by_role("link", name=HOSTILE, exact=True).wait_for()
    badges = page.locator("main table .badge").all_text_contents()
    assert badges and set(badges) == {status}
