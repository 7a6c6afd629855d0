"""The daily digest, delivered through a real SMTP server."""

import datetime
from zoneinfo import ZoneInfo

import time_machine

from followups.digest import digest_send_due
from followups.models import FollowUp
from organisations.models import Membership
from tests import factories
from tests.followups.conftest import at


def waiting_item(cast):  # type: ignore[no-untyped-def]
    return factories.FollowUpFactory(
        organisation=cast.org, conversation=cast.conversation, owner=cast.sales,
        reason=FollowUp.Reason.PROMISE_DUE, priority=1, trigger_at=at(16, 9), due_at=at(17, 17),
    )  # fmt: skip


def send(cast, when):  # type: ignore[no-untyped-def]
    with time_machine.travel(when, tick=False):
        return digest_send_due(org=cast.org)


def test_each_member_with_something_due_gets_one_email_at_the_start_of_their_day(
    thread, smtp_server
):
    cast = thread.cast
    assert send(cast, at(23, 8, 30)) == 0  # before opening
    assert send(cast, at(23, 9, 5)) == 1
    [(recipients, email)] = smtp_server.received
    assert recipients == [cast.sales.email]
    assert email["Subject"] == f"1 to follow up today in {cast.org.name}"
    body = email.get_content()
    assert "Customer waiting on us" in body and cast.conversation.subject in body
    assert f"/o/{cast.org.slug}/followups/" in body


def test_the_digest_is_sent_once_a_day_however_often_the_task_runs(thread, smtp_server):
    cast = thread.cast
    send(cast, at(23, 9, 5))
    send(cast, at(23, 9, 15))
    send(cast, at(23, 16))
    assert len(smtp_server.received) == 1
    send(cast, at(24, 9, 5))
    assert len(smtp_server.received) == 2


def test_no_digest_on_days_off(thread, smtp_server):
    assert send(thread.cast, at(21, 10)) == 0  # a Saturday
    assert smtp_server.received == []


def test_no_email_when_nothing_is_due(thread, smtp_server):
    cast = thread.cast
    FollowUp.objects.for_org(cast.org).update(resolved_at=at(20, 9))
    assert send(cast, at(23, 9, 5)) == 0
    assert smtp_server.received == []
    # ...and the day still counts as done, so nobody gets a late one when an item opens at noon
    membership = Membership.objects.get(organisation=cast.org, user=cast.sales)
    assert membership.digest_sent_on is not None


def test_the_digest_lists_what_is_due_most_pressing_first(thread, smtp_server):
    cast = thread.cast
    promise = waiting_item(cast)
    send(cast, at(23, 9, 5))
    body = smtp_server.received[0][1].get_content()
    assert body.index(promise.get_reason_display()) < body.index("Customer waiting on us")


def test_when_the_mail_server_is_away_the_day_is_given_back_for_the_retry(thread, settings):
    import socket

    import pytest

    from followups.digest import DigestNotSent

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                                    "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 2}}}  # fmt: skip
    with pytest.raises(DigestNotSent, match=thread.cast.sales.email):
        send(thread.cast, at(23, 9, 5))
    membership = Membership.objects.get(organisation=thread.cast.org, user=thread.cast.sales)
    assert membership.digest_sent_on is None


def test_the_digest_shows_dates_in_the_organisations_time_zone(thread, smtp_server):
    cast = thread.cast
    cast.org.time_zone = "America/Los_Angeles"
    cast.org.save()
    factories.FollowUpFactory(
        organisation=cast.org, conversation=cast.conversation, owner=cast.sales,
        reason=FollowUp.Reason.PROMISE_DUE, priority=1, trigger_at=at(16, 9),
        due_at=datetime.datetime(2026, 11, 20, 17, tzinfo=ZoneInfo("America/Los_Angeles")),
        commitment=cast.commitment,
    )  # fmt: skip
    send(cast, datetime.datetime(2026, 11, 23, 9, 5, tzinfo=ZoneInfo("America/Los_Angeles")))
    assert "due Fri 20 Nov" in smtp_server.received[0][1].get_content()
