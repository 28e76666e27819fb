"""The web tests' fixtures: a headless Chromium per module and a page per test (browser.py)."""

from tests.web.browser import browser, page  # noqa: F401
