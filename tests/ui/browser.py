"""Finding and starting Debian's chromium, headless, through Playwright (never a downloaded
browser: `playwright install` is not needed)."""

from __future__ import annotations

import os
import shutil

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
INSTALL_HINT = (
    "install a browser with `sudo apt-get install chromium` (Debian/Ubuntu; or set "
    "SHEARS_CHROMIUM to a Chromium executable) and run `make install` for Playwright"
)


def find_chromium() -> str | None:
    """SHEARS_CHROMIUM when set (and only it), else Debian's chromium or one on PATH."""
    chosen = os.environ.get("SHEARS_CHROMIUM")
    candidates = (
        [chosen]
        if chosen
        else ["/usr/bin/chromium", *map(shutil.which, ("chromium", "chromium-browser"))]
    )
    return next((c for c in candidates if c and os.access(c, os.X_OK)), None)


def running_in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")
