"""The dashboard in a real browser against the real service (API, Celery worker, Postgres,
Redis). Without a browser the tests skip, loudly; under CI=true they fail instead."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e import builders
from tests.e2e.conftest import Service, service  # noqa: F401 (the service fixture)
from tests.e2e.jobs_api import upload
from tests.ui.browser import CHROMIUM_ARGS, INSTALL_HINT, find_chromium, running_in_ci

try:
    from playwright.sync_api import Browser, Page, sync_playwright
except ImportError:  # reported by the `browser` fixture, below
    sync_playwright = None

LAPTOP = {"width": 1280, "height": 900}
skipped_because: list[str] = []


def browser_missing(reason: str) -> None:
    if running_in_ci():
        pytest.fail(f"CI must run the dashboard's browser tests, but {reason}; {INSTALL_HINT}")
    skipped_because.append(reason)
    pytest.skip(f"BROWSER TESTS SKIPPED: {reason}; {INSTALL_HINT}")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if skipped_because:
        terminalreporter.section("dashboard browser tests SKIPPED", sep="!", red=True, bold=True)
        terminalreporter.line(
            f"{skipped_because[0]}: the dashboard was not tested in a browser. To test it, "
            f"{INSTALL_HINT}.",
            red=True,
        )


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if sync_playwright is None:
        browser_missing("the playwright package is not installed")
    executable = find_chromium()
    if executable is None:
        browser_missing("no Chromium executable was found")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh tab (its own session storage: no key yet) that fails on any script error."""
    context = browser.new_context(viewport=LAPTOP, accept_downloads=True)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    yield tab
    context.close()
    assert not errors, errors


def paste_key(page: Page, key: str) -> None:
    page.fill("#api-key", key)
    page.click("form.key-form button[type=submit]")
    page.wait_for_selector("form.key-form", state="detached")


@pytest.fixture
def signed_in(page: Page, service: Service) -> Page:  # noqa: F811
    page.goto(f"{service.base_url}/ui/")
    paste_key(page, service.api_key)
    return page


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("ui-files")
    return {
        "model": builders.keras_file(folder / "digits.keras"),
        "dataset": builders.digits_npz(folder / "digits.npz"),
    }


@pytest.fixture(scope="module")
def uploaded(service: Service, files: dict[str, Path]) -> dict[str, Any]:  # noqa: F811
    """A model and a dataset put there through the API, for tests about other pages."""
    with service.client() as client:
        return {
            "model": upload(client, "models", files["model"]),
            "dataset": upload(client, "datasets", files["dataset"]),
        }
