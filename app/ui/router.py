"""Serves the dashboard: its static files, and the shell page for every /ui/ URL.

Each page has its own URL (/ui/jobs/<id>, /ui/jobs?status=running, ...) and the shell renders
whatever the URL names, so links and reloads show the same state. Hidden from /openapi.json:
these are pages, not the API.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).parent / "static"
SHELL = STATIC_DIR / "index.html"

router = APIRouter(prefix="/ui", include_in_schema=False)


@router.get("")
def ui_root() -> RedirectResponse:
    return RedirectResponse("/ui/", status_code=308)


@router.api_route("/", methods=["GET", "HEAD"])
@router.api_route("/{page:path}", methods=["GET", "HEAD"])
def ui_page(page: str = "") -> FileResponse:
    # Every page URL gets the same shell; the browser's router reads the path.
    return FileResponse(SHELL, media_type="text/html", headers={"Cache-Control": "no-cache"})


def mount_ui(app: FastAPI) -> None:
    app.mount("/ui/static", StaticFiles(directory=STATIC_DIR), name="ui-static")
    app.include_router(router)
