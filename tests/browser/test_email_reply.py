"""Writing and sending a reply from a conversation page, in a real browser, to a real SMTP
server (aiosmtpd, through the organisation's mailer: the member's mailbox has no SMTP host)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mail.models import OutboundEmail
from organisations.tenancy import all_orgs_context
from tests.browser.conftest import log_in
from threadline.celery import app


@pytest.fixture
def eager():
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def test_a_member_writes_a_reply_keeps_the_draft_and_its_file_over_a_reload_and_sends_it(
    live_server, a, page, smtp_server, eager
):
    address = "person@alpha-customer.example"  # the cast's contact
    log_in(page, live_server, a.sales)
    page.goto(f"{live_server.url}/o/{a.org.slug}/conversations/{a.conversation.pk}/")
    composer = page.locator("#composer")
    composer.locator("button[data-add-to=id_to]").first.click()
    assert composer.locator("input[name=to]").input_value() == address
    composer.locator("input[name=subject]").fill("Next steps")
    with page.expect_response(
        lambda r: "/draft/" in r.url and "agreed" in (r.request.post_data or "")
    ) as saved:
        composer.locator("textarea[name=body]").fill("Here is the plan we agreed on.")
    assert saved.value.ok
    page.locator("#draft-status", has_text="Draft saved").wait_for()
    composer.locator("input[name=attachments]").set_input_files(
        {"name": "plan.csv", "mimeType": "text/csv", "buffer": b"step,who\n1,us\n"}
    )
    page.locator("#draft-files", has_text="plan.csv").wait_for()

    page.reload()
    body = page.locator("#composer textarea[name=body]")
    body.wait_for()
    assert body.input_value() == "Here is the plan we agreed on.", "the draft survived"
    assert "plan.csv" in page.locator("#draft-files").inner_text(), "with its file"
    page.locator("#composer button", has_text="Send and mark done").click()

    page.locator(".message.dir-outbound", has_text="Here is the plan we agreed on.").wait_for()
    assert page.locator(".message.dir-outbound .send-state", has_text="Sent").count() == 1
    assert page.locator("#composer textarea[name=body]").input_value() == "", "draft gone"
    [(envelope, sent)] = smtp_server.received
    assert envelope == [address] and sent["Subject"] == "Next steps"
    assert [part.get_filename() for part in sent.iter_attachments()] == ["plan.csv"]
    with all_orgs_context():
        assert OutboundEmail.all_orgs.get().state == "sent"
    screenshots = Path(os.environ.get("THREADLINE_SCREENSHOTS", "var/screenshots"))
    screenshots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(screenshots / "conversation-after-reply.png"), full_page=True)
