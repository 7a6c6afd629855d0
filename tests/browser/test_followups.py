"""A customer waiting on us, seen from the owner's queue in a real browser."""

from __future__ import annotations

import datetime

from django.utils import timezone

from followups.models import FollowUp
from followups.scan import followups_scan
from mail.services import email_ingest
from organisations.tenancy import org_context
from tests.browser.conftest import log_in


def customer_email(a, sent: datetime.datetime) -> bytes:  # type: ignore[no-untyped-def]
    return (
        f"From: Alpha Person <person@alpha-customer.example>\r\n"
        f"To: {a.sales.email}\r\n"
        f"Subject: Where is our renewal quote?\r\n"
        f"Date: {sent.strftime('%a, %d %b %Y %H:%M:%S +0000')}\r\n"
        f"Message-ID: <quote-please@alpha-customer.example>\r\n"
        f"\r\n"
        f"Hello, could you send the renewal quote for 40 seats?\r\n"
    ).encode()


def test_a_waiting_customer_is_in_the_queue_snoozes_away_and_leaves_when_we_answer(
    live_server, a, page
):
    with org_context(a.org):  # as the sync worker does
        email_ingest(org=a.org, raw=customer_email(a, timezone.now() - datetime.timedelta(days=6)))
        followups_scan(org=a.org)
        item = FollowUp.objects.for_org(a.org).get(
            conversation__subject="Where is our renewal quote?"
        )
        assert item.owner_id == a.sales.pk

    log_in(page, live_server, a.sales)
    page.goto(f"{live_server.url}/o/{a.org.slug}/followups/")
    card = page.locator("article.followup", has_text="Where is our renewal quote?")
    card.wait_for()
    assert "Customer waiting on us" in card.inner_text()
    assert "could you send the renewal quote" in card.inner_text()

    # Snooze it: it leaves the queue in place, and comes back when the day comes.
    in_three_days = timezone.localdate() + datetime.timedelta(days=3)
    card.locator("input[name=until]").fill(in_three_days.isoformat())
    card.locator("button", has_text="Snooze").click()
    card.wait_for(state="detached")
    with org_context(a.org):  # the day has come
        FollowUp.objects.for_org(a.org).filter(pk=item.pk).update(
            snoozed_until=timezone.now() - datetime.timedelta(minutes=1)
        )
    page.reload()
    card.wait_for()

    # Answer it (here by logging the call we made): it is no longer in the queue.
    card.locator("a", has_text="Reply or log").click()
    form = page.locator("form.log-form")
    form.locator("textarea[name=body]").fill("Called Alpha and walked them through the quote.")
    form.locator("button", has_text="Log it").click()
    page.locator("#conversation-messages .message", has_text="walked them through").wait_for()
    page.goto(f"{live_server.url}/o/{a.org.slug}/followups/")
    page.locator("h1", has_text="My follow-ups").wait_for()
    assert page.locator("article.followup", has_text="Where is our renewal quote?").count() == 0
    with org_context(a.org):
        item.refresh_from_db()
    assert item.resolution == FollowUp.Resolution.RECORD
