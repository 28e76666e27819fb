"""The console behind a client token (--auth-token-file), in a real browser: a page asks for the
token at /login, a wrong one is refused on the page, the right one sets the session cookie and
the console's pages (and the REST calls they make) then work; logging out ends it."""

from __future__ import annotations

import pytest

from tests.cloudfixture import start_cloud

TOKEN = "console-token-for-tests"


@pytest.fixture(scope="module")
def token_cloud(tmp_path_factory):
    path = tmp_path_factory.mktemp("console-token") / "token"
    path.write_text(TOKEN)
    with start_cloud(1, args=["--auth-token-file", str(path)]) as cloud:
        yield cloud


def test_login_page_then_console(token_cloud, page):
    base = token_cloud.nodes[0].url
    p = page.goto(base + "/frames")
    assert "/login?next=" in p.url  # redirected, nothing of the console served
    p.locator("input#token").wait_for()
    page.shot("login-page")
    p.fill("input#token", "not-the-token")
    p.click("input[type=submit]")
    p.locator(".error").wait_for()
    assert "wrong token" in p.locator(".error").inner_text()
    page.allow(r"HTTP 401 .*/login")  # the refused login itself
    p.fill("input#token", TOKEN)
    p.click("input[type=submit]")
    p.wait_for_url(base + "/frames")
    p.locator("main h1").wait_for()
    p.wait_for_function("() => !document.querySelector('main .loading')")
    assert not p.locator("main .error").count(), p.locator("main .error").all_inner_texts()
    page.shot("login-then-frames")
    cookies = p.context.cookies()
    session = [c for c in cookies if c["name"] == "h2ocloud_session"]
    assert session and session[0]["httpOnly"] and session[0]["sameSite"] == "Strict"
    assert session[0]["value"] != TOKEN
    p = page.goto(base + "/")  # the cloud page fetches /3/Cloud with the cookie
    p.locator("#nodes").wait_for()
    p.wait_for_function("() => !document.querySelector('main .loading')")
    assert token_cloud.nodes[0].address.split(":")[1] in p.locator("main").inner_text() or \
        "127.0.0.1" in p.locator("main").inner_text()
    page.goto(base + "/logout")
    assert "/login" in page.page.url
    # The one refusal the test provoked (the wrong token's 401), and nothing else.
    refused = [e for e in page.errors if "401" in e]
    assert len([e for e in refused if e.startswith("HTTP 401")]) == 1, page.errors
    page.allow(r"status of 401")
    assert len([e for e in refused if "status of 401" in e]) <= 1, page.errors
    page.assert_no_errors()
