"""The web UI in a real browser: Debian's Chromium driven by Playwright."""

from __future__ import annotations

import os
from pathlib import Path

from conversations.models import Commitment, Message
from organisations.tenancy import all_orgs_context
from tests.browser.conftest import log_in


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
