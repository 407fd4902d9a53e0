"""Headless Chromium (Debian's, installed by scripts/chromium.sh) driven by Playwright, against
the app served in a thread as for the end-to-end tests."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.e2e.conftest import app_settings, app_url  # noqa: F401 (fixtures used here)

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        raise RuntimeError(
            f"no Chromium at {CHROMIUM}: run scripts/chromium.sh (make test does) to install it"
        )
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.fixture
def screenshots(tmp_path) -> Path:
    """Where the walk-through saves its page screenshots: `ATELIER_SCREENSHOTS` (set it to
    docs/screenshots to refresh the documentation's), else a temporary folder."""
    folder = Path(os.environ.get("ATELIER_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder
