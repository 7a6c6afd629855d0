"""Each event is emitted where the record really changes, and costs nothing unsubscribed."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from conversations.models import Commitment, Conversation, Message
from conversations.services import commitment_add, commitment_set_state, record_activity_bulk
from followups.models import FollowUp
from followups.scan import followups_scan
from followups.services import followup_resolve
from health.models import HealthSnapshot
from health.services import health_snapshots_refresh
from tests import factories
from tests.followups.conftest import Thread, at
from webhooks.events import emit, subscribed_events
from webhooks.models import Event, WebhookDelivery


@pytest.fixture(autouse=True)
def _no_tasks(django_capture_on_commit_callbacks: Any) -> Any:
    # Deliveries are created here; sending them is test_delivery's business.
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        yield callbacks


def subscribe(cast: Any, *events: str) -> Any:
    return factories.WebhookFactory(organisation=cast.org, events=list(events))


def sent(cast: Any, event: str) -> list[dict]:
    rows = (
        WebhookDelivery.objects.for_org(cast.org).filter(event=event).exclude(pk=cast.delivery.pk)
    )
    rows = rows.order_by("pk")
    return [row.payload["data"] for row in rows]


def emails(cast: Any, n: int, direction: str = Message.Direction.INBOUND) -> list[Message]:
    conversation: Any = factories.ConversationFactory(organisation=cast.org, account=cast.account)
    now = timezone.now()
    messages = [
        Message(
            organisation=cast.org, conversation=conversation, account=cast.account,
            kind=Message.Kind.EMAIL, direction=direction,
            occurred_at=now - datetime.timedelta(minutes=n - i), subject=f"Mail {i}",
            body_text="Thanks, all good.",
        )
        for i in range(n)
    ]  # fmt: skip
    return Message.objects.for_org(cast.org).bulk_create(messages)


def webhook_queries(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if "webhooks_" in q["sql"]]


def test_a_batch_of_messages_is_one_emit_with_the_fields_a_receiver_needs(a):
    subscribe(a, "message.created")
    batch = emails(a, 3)
    record_activity_bulk(org=a.org, messages=batch)
    data = sent(a, "message.created")
    assert [d["message_id"] for d in data] == [m.pk for m in batch]
    assert data[0] == {
        "message_id": batch[0].pk, "conversation_id": batch[0].conversation_id,
        "account_id": a.account.pk, "kind": "email", "direction": "inbound",
        "occurred_at": batch[0].occurred_at.isoformat(), "subject": "Mail 0", "automated": False,
    }  # fmt: skip
    payloads = WebhookDelivery.objects.for_org(a.org).exclude(pk=a.delivery.pk)
    assert len({p.event_id for p in payloads}) == 3
    assert all(p.payload["id"] == str(p.event_id) for p in payloads)
    assert all(p.status == "pending" and p.attempts == 0 for p in payloads)


def test_without_subscribers_a_500_message_batch_costs_no_webhook_query(a):
    factories.WebhookFactory(organisation=a.org, events=["health.band_changed"])  # another event
    batch = emails(a, 500)
    subscribed_events(a.org.pk)  # as after the first batch
    with CaptureQueriesContext(connection) as queries:
        record_activity_bulk(org=a.org, messages=batch)
    assert webhook_queries(queries) == []
    assert not WebhookDelivery.objects.for_org(a.org).exclude(pk=a.delivery.pk).exists()


def test_with_a_subscriber_the_cost_does_not_grow_with_the_batch(a):
    subscribe(a, "message.created")
    small, large = emails(a, 5), emails(a, 200)
    subscribed_events(a.org.pk)  # as after the first batch
    with CaptureQueriesContext(connection) as one:
        record_activity_bulk(org=a.org, messages=small)
    with CaptureQueriesContext(connection) as many:
        record_activity_bulk(org=a.org, messages=large)
    # The webhooks that want it, and one INSERT of the deliveries.
    assert len(webhook_queries(many)) == len(webhook_queries(one)) == 2
    assert len(sent(a, "message.created")) == 205


def test_a_new_subscription_is_seen_at_once_and_a_disabled_one_stops(a):
    assert emit(a.org, "message.created", {"x": 1}) == 0  # cached: nobody subscribes
    webhook = subscribe(a, "message.created")
    assert emit(a.org, "message.created", {"x": 1}) == 1
    webhook.is_active = False
    webhook.save()
    assert emit(a.org, "message.created", {"x": 1}) == 0


def test_a_customer_question_changes_the_state_and_says_from_what(a):
    subscribe(a, "conversation.state_changed")
    thread = Thread(a)
    with time_machine.travel(at(16, 10), tick=False):
        thread.they("Could you send the renewal quote?", at(16, 10))
    with time_machine.travel(at(16, 11), tick=False):
        thread.they("Thanks!", at(16, 11))  # still waiting for the quote: no change
    [change] = sent(a, "conversation.state_changed")
    assert change == {
        "conversation_id": thread.conversation.pk, "account_id": a.account.pk,
        "old_state": "settled", "new_state": "awaiting_us",
        "state_since": at(16, 10).isoformat(),
    }  # fmt: skip


def test_the_scan_opens_a_followup_and_our_reply_resolves_it(a):
    subscribe(a, "followup.opened", "followup.resolved")
    thread = Thread(a)
    with time_machine.travel(at(16, 10), tick=False):
        thread.they("Could you send the renewal quote?", at(16, 10))
    with time_machine.travel(at(18, 10), tick=False):
        followups_scan(org=a.org)
        followups_scan(org=a.org)  # twice: opened once
    item = FollowUp.objects.for_org(a.org).get(conversation=thread.conversation)
    [opened] = sent(a, "followup.opened")
    assert opened["followup_id"] == item.pk and opened["reason"] == "awaiting_us"
    assert (opened["conversation_id"], opened["owner_id"]) == (thread.conversation.pk, a.sales.pk)
    assert opened["resolved_at"] is None
    with time_machine.travel(at(18, 11), tick=False):
        thread.we("Here it is, sorry for the wait.", at(18, 11))  # settled at once
    [resolved] = [d for d in sent(a, "followup.resolved") if d["followup_id"] == item.pk]
    assert resolved["resolution"] == "record"
    assert resolved["resolved_at"] is not None


def test_a_members_answer_resolves_a_followup(a):
    subscribe(a, "followup.resolved")
    item = a.followup
    followup_resolve(org=a.org, followup=item, resolution="no_reply_needed", by=a.sales)
    [resolved] = sent(a, "followup.resolved")
    assert (resolved["followup_id"], resolved["resolution"]) == (item.pk, "no_reply_needed")


def test_the_scan_resolving_what_the_record_no_longer_supports_emits_resolved(a):
    subscribe(a, "followup.resolved")
    # The cast's open item waits on us, but its conversation is settled: the scan resolves it.
    assert a.followup.reason == FollowUp.Reason.AWAITING_US
    followups_scan(org=a.org)
    assert [d["followup_id"] for d in sent(a, "followup.resolved")] == [a.followup.pk]


def test_settled_conversations_going_quiet_in_the_scan_emit_a_state_change(a):
    subscribe(a, "conversation.state_changed")
    a.conversation.state = "settled"
    a.conversation.last_activity_at = timezone.now() - datetime.timedelta(days=45)
    a.conversation.save()
    followups_scan(org=a.org)
    [change] = sent(a, "conversation.state_changed")
    assert (change["conversation_id"], change["old_state"], change["new_state"]) == (
        a.conversation.pk, "settled", "quiet",
    )  # fmt: skip


# The thread's conversation began on 2 November: a later clock would find it quiet already.
@time_machine.travel(at(23, 12), tick=False)
def test_a_newsletter_waking_a_quiet_conversation_emits_a_state_change(a):
    subscribe(a, "conversation.state_changed")
    thread = Thread(a)
    long_ago = timezone.now() - datetime.timedelta(days=45)
    thread.we("Here is the signed contract.", long_ago)
    Conversation.objects.for_org(a.org).filter(pk=thread.conversation.pk).update(state="quiet")
    thread.they("Our November newsletter", timezone.now(), automated="list mail")
    assert thread.fresh.state == "settled"
    changes = [(c["old_state"], c["new_state"]) for c in sent(a, "conversation.state_changed")]
    assert changes == [("quiet", "settled")]


def test_promises_added_suggested_and_changed(a):
    subscribe(a, "commitment.changed")
    promise = commitment_add(
        org=a.org, conversation=a.conversation, owed_by=Commitment.OwedBy.US,
        text="Send the revised pricing", due_on=datetime.date(2026, 12, 4),
    )  # fmt: skip
    commitment_set_state(org=a.org, commitment=promise, state=Commitment.State.KEPT)
    [email] = emails(a, 1, direction=Message.Direction.OUTBOUND)
    Message.objects.for_org(a.org).filter(pk=email.pk).update(
        body_text="I'll send you the signed contract by Friday."
    )
    email.body_text = "I'll send you the signed contract by Friday."
    record_activity_bulk(org=a.org, messages=[email])
    added, kept, suggested = sent(a, "commitment.changed")
    assert (added["commitment_id"], added["change"], added["state"]) == (
        promise.pk,
        "created",
        "open",
    )
    assert added["due_on"] == "2026-12-04" and added["owed_by"] == "us"
    assert (kept["change"], kept["previous_state"], kept["state"]) == ("state", "open", "kept")
    assert (suggested["change"], suggested["state"]) == ("suggested", "suggested")
    assert suggested["message_id"] == email.pk


def test_a_logged_call_with_promises_emits_them(a):
    from conversations.services import interaction_log

    subscribe(a, "commitment.changed", "message.created")
    interaction_log(
        org=a.org, account=a.account, author=a.sales, kind="call", body="Renewal call",
        occurred_at=timezone.now(), we_owe="Send the pricing", they_owe="Sign the order",
    )  # fmt: skip
    assert sorted(d["owed_by"] for d in sent(a, "commitment.changed")) == ["them", "us"]
    assert len(sent(a, "message.created")) == 1


def test_a_health_band_change_says_from_which_band_to_which(a):
    subscribe(a, "health.band_changed")
    health_snapshots_refresh(org=a.org)
    assert sent(a, "health.band_changed") == [], "a first snapshot is no change"
    snapshot = HealthSnapshot.objects.for_org(a.org).get(account=a.account)
    health_snapshots_refresh(org=a.org)
    assert sent(a, "health.band_changed") == [], "the same band again is no change"
    old = "healthy" if snapshot.band != "healthy" else "at_risk"
    HealthSnapshot.objects.for_org(a.org).filter(pk=snapshot.pk).update(band=old)
    health_snapshots_refresh(org=a.org)
    [change] = sent(a, "health.band_changed")
    assert change["account_id"] == a.account.pk
    assert (change["old_band"], change["new_band"]) == (old, snapshot.band)


def test_nothing_is_delivered_when_no_webhook_subscribes(a, b):
    # The cast's webhooks are disabled; B subscribes to everything, which A's record ignores.
    subscribe(b, *Event.values)
    thread = Thread(a)
    with time_machine.travel(at(16, 10), tick=False):
        thread.they("Could you send the renewal quote?", at(16, 10))
    with time_machine.travel(at(18, 10), tick=False):
        followups_scan(org=a.org)
    commitment_add(org=a.org, conversation=a.conversation, owed_by="us", text="Call back")
    health_snapshots_refresh(org=a.org)
    assert FollowUp.objects.for_org(a.org).filter(conversation=thread.conversation).exists()
    assert list(WebhookDelivery.objects.for_org(a.org)) == [a.delivery]
    assert list(WebhookDelivery.objects.for_org(b.org)) == [b.delivery]
