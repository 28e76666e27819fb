"""Headless Chromium for the console tests: Debian's chromium driven by Playwright through
executable_path (Playwright's own browser download is not used), one browser per test module.

Every page a test opens records the browser console's errors and uncaught exceptions; `shot`
saves a full-page screenshot under test-screenshots/ (not committed) for a person to look at.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SHOTS = Path(os.environ.get("H2OCLOUD_SCREENSHOTS", REPO / "test-screenshots"))
# Generous: a loaded 2-core machine trains, parses and renders slowly; Playwright waits for
# each condition to hold, so a fast run never waits this long.
TIMEOUT_MS = 120_000


def chromium_path() -> str:
    for name in ("chromium", "chromium-browser"):
        p = shutil.which(name)
        if p:
            return p
    pytest.fail("Debian's chromium is not installed (apt-get install chromium; .ci/run does it)")


class Page:
    """A Playwright page plus the console errors it logged."""

    def __init__(self, page):
        self.page = page
        self.errors: list[str] = []
        self.allowed: list[re.Pattern] = []
        page.set_default_timeout(TIMEOUT_MS)
        page.on("console", lambda m: self.errors.append(f"console.{m.type}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"uncaught: {e}"))
        page.on("response", lambda r: self.errors.append(f"HTTP {r.status} {r.url}") if r.status >= 400 else None)

    def goto(self, url: str):
        self.page.goto(url, wait_until="load")
        return self.page

    def shot(self, name: str) -> Path:
        SHOTS.mkdir(parents=True, exist_ok=True)
        path = SHOTS / (re.sub(r"[^A-Za-z0-9_.-]+", "_", name) + ".png")
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def allow(self, pattern: str) -> None:
        """Errors matching pattern are expected (a refusal the test provokes), not failures."""
        self.allowed.append(re.compile(pattern))

    def assert_no_errors(self) -> None:
        left = [e for e in self.errors if not any(a.search(e) for a in self.allowed)]
        assert not left, left


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium_path(), headless=True,
                               args=["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"])
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser):
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    p = Page(ctx.new_page())
    try:
        yield p
    finally:
        ctx.close()
