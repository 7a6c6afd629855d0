"""An email as its sender formatted it, in a real browser: inline images load (through the
member's session, from inside the sandbox), remote ones are never requested, nothing runs."""

from __future__ import annotations

import os
from pathlib import Path

from mail.services import email_ingest
from organisations.tenancy import all_orgs_context
from tests.browser.conftest import log_in
from tests.mail.test_attachments import mail_with_attachments


def test_show_formatted_reveals_the_email_with_its_inline_image_and_no_tracker(
    live_server,
    a,
    page,  # noqa: F811
):
    # Playwright's event loop is running: ORM calls here get a connection of their own.
    with all_orgs_context():
        message = email_ingest(
            org=a.org,
            raw=mail_with_attachments(sender="ann@alpha-customer.example", to=a.sales.email),
        ).message
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    dialogs: list[str] = []

    def on_dialog(dialog):
        dialogs.append(dialog.message)  # an alert() would mean the email's script ran
        dialog.dismiss()

    page.on("dialog", on_dialog)
    log_in(page, live_server, a.sales)
    page.goto(f"{live_server.url}/o/{a.org.slug}/conversations/{message.conversation_id}/")

    email = page.locator(f"#message-{message.pk}")
    assert email.locator(".body").is_visible(), "the text is what shows first"
    assert not email.locator("iframe").is_visible()
    email.locator("summary", has_text="Show formatted").click()
    frame = email.frame_locator("iframe")
    logo = frame.locator("img[alt=Acme]")
    logo.wait_for()
    page.wait_for_function(
        "el => el.complete && el.naturalWidth > 0",
        arg=logo.element_handle(),
    )
    assert logo.evaluate("el => [el.naturalWidth, el.naturalHeight]") == [24, 12]
    assert "signed" in frame.locator("b").inner_text()
    assert not email.locator(".body").is_visible(), "the formatted email replaces the text"
    content = frame.locator("html").evaluate("el => el.getBoundingClientRect().height")
    box = email.locator(".email-frame").evaluate("el => el.getBoundingClientRect().height")
    assert content <= box <= content + 8, "the frame takes the height of the email"
    assert page.locator("h1").is_visible(), "nothing from the email touches the page"
    assert not [url for url in requested if "tracker.example" in url]
    assert any("?inline=1" in url for url in requested)
    assert dialogs == []
    download = email.locator("ul.attachments a", has_text="Quote Q-1042 (signed).pdf")
    with page.expect_download() as started:
        download.click()
    assert started.value.suggested_filename == "Quote Q-1042 (signed).pdf"
    screenshots = Path(os.environ.get("THREADLINE_SCREENSHOTS", "var/screenshots"))
    screenshots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(screenshots / "conversation-formatted-email.png"), full_page=True)
