"""The dashboard's pages and files as the API process serves them: one shell for every page URL,
no inline script anywhere, a CSP that forbids it, and nothing of it in the OpenAPI document."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.ui.router import STATIC_DIR

PAGES = ["/ui/", "/ui/models", "/ui/jobs/job_123", "/ui/jobs/new", "/ui/sweeps/sw_1"]
# Ways a script could turn data into markup or code; the dashboard uses none of them.
UNSAFE_JS = re.compile(
    r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function"
)


@pytest.fixture
def anonymous(app: FastAPI) -> TestClient:
    return TestClient(app)


@pytest.mark.parametrize("path", PAGES)
def test_every_page_url_is_the_shell_with_a_csp_that_forbids_inline_script(
    anonymous: TestClient, path: str
) -> None:
    response = anonymous.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.text == (STATIC_DIR / "index.html").read_text()
    assert anonymous.head(path).status_code == 200


def test_static_files_are_served_with_the_same_headers(anonymous: TestClient) -> None:
    response = anonymous.get("/ui/static/js/app.js")
    assert response.status_code == 200
    assert "javascript" in response.headers["content-type"]
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert anonymous.get("/ui/static/js/nope.js").status_code == 404


def test_the_api_itself_gets_no_page_headers(client: TestClient) -> None:
    response = client.get("/v1/models")
    assert response.status_code == 200
    assert "content-security-policy" not in response.headers


def test_the_dashboard_is_not_part_of_the_openapi_document(anonymous: TestClient) -> None:
    paths = anonymous.get("/openapi.json").json()["paths"]
    assert paths and not [p for p in paths if p.startswith("/ui")]


class ScriptTags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.inline: list[str] = []
        self.handlers: list[str] = []
        self._open: dict[str, str | None] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handlers += [name for name, _ in attrs if name.startswith("on")]
        if tag == "script":
            self._open = dict(attrs)

    def handle_data(self, data: str) -> None:
        if self._open is not None and "src" not in self._open and data.strip():
            self.inline.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._open = None


def test_no_inline_script_and_no_markup_built_from_strings() -> None:
    parser = ScriptTags()
    parser.feed((STATIC_DIR / "index.html").read_text())
    assert parser.inline == [] and parser.handlers == []
    scripts = sorted(STATIC_DIR.rglob("*.js"))
    assert len(scripts) > 10
    unsafe = {
        str(p.relative_to(STATIC_DIR)): m.group()
        for p in scripts
        if (m := UNSAFE_JS.search(p.read_text()))
    }
    assert not unsafe, unsafe


def test_every_page_module_the_router_names_exists() -> None:
    app_js = (STATIC_DIR / "js" / "app.js").read_text()
    pages = set(re.findall(r'"(\w+)"\],', app_js))
    assert {"models", "model", "datasets", "dataset", "jobs", "job_new", "job"} <= pages
    missing = [p for p in pages if not Path(STATIC_DIR / "js" / "pages" / f"{p}.js").exists()]
    assert not missing, missing
