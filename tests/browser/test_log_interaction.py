"""The web UI in a real browser: Debian's Chromium driven by Playwright."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connections

from conversations.models import Commitment, Message
from organisations.tenancy import all_orgs_context
from tests.factories import PASSWORD

CHROMIUM = Path("/usr/bin/chromium")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="Debian's chromium is not installed (make test installs it as root)",
    ),
]


@pytest.fixture
def page(live_server) -> Iterator[object]:  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread. The ORM calls a test makes while
    # it runs are safe, but get a connection of their own: build data before, as the cast does.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--no-sandbox", "--disable-background-networking", "--disable-gpu",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )  # fmt: skip
        page = browser.new_page()
        page.set_default_timeout(15_000)
        yield page
        connections.close_all()  # the ones the test opened while the event loop ran
        browser.close()
    del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


def log_in(page, live_server, user) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/o/**")


def test_logging_a_meeting_adds_it_to_the_account_history_without_a_page_reload(
    live_server, a, page
):
    log_in(page, live_server, a.sales)
    page.goto(f"{live_server.url}/o/{a.org.slug}/accounts/{a.account.pk}/")
    page.evaluate("window.samePage = true")

    form = page.locator("form.log-form")
    form.locator("input[name=kind][value=meeting]").check()
    form.locator("textarea[name=body]").fill("Demoed the dispatch board to the Ops team.")
    form.locator(f"input[name=contacts][value='{a.contact.pk}']").check()
    form.locator("summary", has_text="Promises made").click()
    form.locator("input[name=we_owe]").fill("Send the SSO setup guide")
    form.locator("button", has_text="Log it").click()

    page.locator("#timeline .message", has_text="Demoed the dispatch board").wait_for()
    first = page.locator("#timeline .message").first
    assert "Demoed the dispatch board" in first.inner_text(), "newest first"
    assert a.contact.full_name in first.inner_text()
    assert page.locator("#open-commitments", has_text="Send the SSO setup guide").count() == 1
    assert page.evaluate("window.samePage") is True, "no page reload"
    assert page.locator("form.log-form textarea[name=body]").input_value() == "", "form is fresh"
    with all_orgs_context():
        meeting = Message.all_orgs.get(kind="meeting")
        assert meeting.account_id == a.account.pk
        assert Commitment.all_orgs.filter(message=meeting, text="Send the SSO setup guide").exists()
    screenshots = Path(os.environ.get("THREADLINE_SCREENSHOTS", "var/screenshots"))
    screenshots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(screenshots / "account-after-logging.png"), full_page=True)


def test_a_log_without_what_was_discussed_shows_the_error_in_place(live_server, a, page):
    log_in(page, live_server, a.sales)
    page.goto(f"{live_server.url}/o/{a.org.slug}/accounts/{a.account.pk}/")
    page.evaluate("window.samePage = true")
    page.locator("form.log-form button", has_text="Log it").click()
    page.locator("form.log-form .error", has_text="This field is required.").wait_for()
    assert page.evaluate("window.samePage") is True
    with all_orgs_context():
        assert Message.all_orgs.filter(account=a.account).count() == 1
