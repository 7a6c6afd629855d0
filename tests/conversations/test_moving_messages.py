"""Putting messages where they belong: move one, split a thread, merge two."""

import datetime as dt
from typing import cast

import pytest

from accounts.models import Account
from conversations.models import (
    Commitment,
    Conversation,
    ConversationLink,
    MergedConversation,
    Message,
    Participant,
)
from conversations.services import (
    RecordError,
    conversation_merge,
    conversation_split,
    conversations_recount,
    message_move,
    message_move_to_new,
    record_activity_bulk,
)
from tests import factories

NOV = dt.datetime(2026, 11, 1, 9, tzinfo=dt.UTC)


def day(n: int) -> dt.datetime:
    return NOV + dt.timedelta(days=n)


def conversation(cast, subject="Rollout", account=None):
    return factories.ConversationFactory(
        organisation=cast.org, account=account or cast.account, subject=subject, owner=cast.sales
    )


def message(conv, at, kind="email", direction="inbound", **fields):
    """A message stored the way ingestion and logging store them: clocks moved forward."""
    made = cast(Message, factories.MessageFactory(
        organisation=conv.organisation, conversation=conv, account=conv.account, kind=kind,
        direction=direction, occurred_at=at, subject=fields.pop("subject", conv.subject), **fields,
    ))  # fmt: skip
    record_activity_bulk(org=conv.organisation, messages=[made])
    return made


def fresh(conv):
    return Conversation.all_orgs.filter(pk=conv.pk).first()


def clocks(conv):
    conv = fresh(conv)
    return {
        "count": conv.message_count,
        "started": conv.started_at,
        "activity": conv.last_activity_at,
        "inbound": conv.last_inbound_at,
        "outbound": conv.last_outbound_at,
    }


def started_before(conv, at):
    """Factory conversations start "now"; the first message sets the real start."""
    Conversation.all_orgs.filter(pk=conv.pk).update(started_at=at, last_activity_at=at)


@pytest.fixture
def thread(a):
    """Customer asks (day 1), we answer (day 2), an auto-reply (day 3), the customer again
    (day 4), with a promise made in that last one."""
    conv = conversation(a)
    started_before(conv, day(1))
    asked = message(conv, day(1))
    answered = message(conv, day(2), direction="outbound", sender_member=a.sales)
    auto = message(conv, day(3), automated_reason="auto-submitted: auto-replied")
    again = message(conv, day(4))
    Participant.all_orgs.create(organisation=a.org, message=again, contact=a.contact)
    promise = factories.CommitmentFactory(
        organisation=a.org, conversation=conv, message=again, text="Send the DPA"
    )
    return conv, [asked, answered, auto, again], promise


def test_recounting_gives_what_the_messages_gave_as_they_arrived(a, thread):
    conv, _, _ = thread
    before = clocks(conv)
    Conversation.all_orgs.filter(pk=conv.pk).update(
        message_count=99, last_inbound_at=None, last_outbound_at=day(30), started_at=day(30)
    )
    assert conversations_recount(org=a.org, conversation_ids=[conv.pk]) == 1
    assert clocks(conv) == before == {
        "count": 4, "started": day(1), "activity": day(4), "inbound": day(4), "outbound": day(2),
    }  # fmt: skip


def test_moving_a_message_recounts_both_conversations(a, thread):
    conv, (asked, answered, auto, again), promise = thread
    other = conversation(a, "Security review")
    started_before(other, day(0))
    message(other, day(0), kind="call", direction="outbound", sender_member=a.sales)

    result = message_move(org=a.org, message=again, to_conversation=other, by=a.sales)

    assert not result.source_removed and result.message.conversation == other
    assert clocks(conv) == {
        "count": 3, "started": day(1), "activity": day(3), "inbound": day(1), "outbound": day(2),
    }, "the auto-reply is activity but nobody's turn: the customer last wrote on day 1"  # fmt: skip
    assert clocks(other) == {
        "count": 2, "started": day(0), "activity": day(4), "inbound": day(4), "outbound": day(0),
    }, "the call went both ways; the moved message is the customer's latest turn"  # fmt: skip
    assert Message.all_orgs.get(pk=again.pk).conversation_id == other.pk
    assert Participant.all_orgs.get(message=again).contact == a.contact, "its people go with it"
    assert Commitment.all_orgs.get(pk=promise.pk).conversation_id == other.pk


def test_moved_automated_mail_and_notes_move_no_turn_clock(a, thread):
    conv, (_, _, auto, _), _ = thread
    other = conversation(a, "Notes")
    started_before(other, day(0))
    note = message(other, day(0), kind="note", direction="internal")
    message_move(org=a.org, message=auto, to_conversation=other, by=a.sales)
    assert clocks(other) == {
        "count": 2, "started": day(0), "activity": day(3), "inbound": None, "outbound": None,
    }  # fmt: skip
    message_move(org=a.org, message=note, to_conversation=conv, by=a.sales)
    assert clocks(conv)["inbound"] == day(4) and clocks(conv)["outbound"] == day(2)
    assert clocks(conv)["started"] == day(0), "the note is older than the conversation's start"


def test_only_the_promises_made_in_the_moved_message_follow_it(a, thread):
    conv, (asked, *_), _ = thread
    other = conversation(a, "Elsewhere")
    message(other, day(5))
    stays = factories.CommitmentFactory(organisation=a.org, conversation=conv, text="Stays")
    made_in_first = factories.CommitmentFactory(
        organisation=a.org, conversation=conv, message=asked, text="Goes"
    )
    message_move(org=a.org, message=asked, to_conversation=other, by=a.sales)
    assert Commitment.all_orgs.get(pk=stays.pk).conversation_id == conv.pk
    assert Commitment.all_orgs.get(pk=made_in_first.pk).conversation_id == other.pk


def test_a_message_moved_to_another_accounts_conversation_changes_account(a, thread):
    conv, (*_, again), _ = thread
    elsewhere = factories.AccountFactory(organisation=a.org, name="Elsewhere Ltd")
    theirs = conversation(a, "Their thread", account=elsewhere)
    message(theirs, day(2))
    Message.all_orgs.filter(pk=a.message.pk).delete()  # only the thread's messages are at A
    Account.all_orgs.filter(pk=a.account.pk).update(last_interaction_at=day(4))

    message_move(org=a.org, message=again, to_conversation=theirs, by=a.sales)

    assert Message.all_orgs.get(pk=again.pk).account_id == elsewhere.pk
    last = dict(
        Account.all_orgs.filter(organisation=a.org).values_list("pk", "last_interaction_at")
    )
    assert last[elsewhere.pk] == day(4)
    assert last[a.account.pk] == day(2), "the auto-reply on day 3 is no interaction"
    assert clocks(theirs)["count"] == 2 and clocks(conv)["count"] == 3


def test_health_of_both_accounts_is_recomputed_once_a_move_commits(
    a, thread, django_capture_on_commit_callbacks
):
    from celery import current_app

    from health.models import HealthSnapshot

    conv, (*_, again), _ = thread
    elsewhere = factories.AccountFactory(organisation=a.org, name="Elsewhere Ltd")
    theirs = conversation(a, "Their thread", account=elsewhere)
    message(theirs, day(2))
    current_app.conf.task_always_eager = True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            message_move(org=a.org, message=again, to_conversation=theirs, by=a.sales)
    finally:
        current_app.conf.task_always_eager = False
    scored = set(HealthSnapshot.objects.for_org(a.org).values_list("account_id", flat=True))
    assert scored == {a.account.pk, elsewhere.pk}


def test_moving_the_last_message_out_merges_what_is_left_into_the_target(a):
    conv, other = conversation(a, "Misfiled"), conversation(a, "Where it belongs")
    only = message(conv, day(1))
    message(other, day(2))
    promise = factories.CommitmentFactory(organisation=a.org, conversation=conv, text="Call back")
    related = conversation(a, "Earlier")
    ConversationLink.all_orgs.create(
        organisation=a.org, from_conversation=related, to_conversation=conv
    )

    result = message_move(org=a.org, message=only, to_conversation=other, by=a.sales)

    assert result.source_removed and fresh(conv) is None
    assert Commitment.all_orgs.get(pk=promise.pk).conversation_id == other.pk
    link = ConversationLink.all_orgs.get(from_conversation=related)
    assert link.to_conversation_id == other.pk
    assert MergedConversation.all_orgs.get(merged_id=conv.pk).into_id == other.pk
    assert clocks(other)["count"] == 2


def test_a_message_cannot_be_moved_where_it_already_is(a, thread):
    conv, (asked, *_), _ = thread
    with pytest.raises(RecordError, match="already in that conversation"):
        message_move(org=a.org, message=asked, to_conversation=conv, by=a.sales)


def test_moving_a_message_to_a_new_conversation_keeps_account_and_owner(a, thread):
    conv, (_, answered, *_), _ = thread
    result = message_move_to_new(org=a.org, message=answered, by=a.sales)
    new = fresh(result.message.conversation)
    assert new.pk != conv.pk and (new.account, new.owner) == (a.account, a.sales)
    assert new.subject == answered.subject
    assert clocks(new) == {
        "count": 1, "started": day(2), "activity": day(2), "inbound": None, "outbound": day(2),
    }  # fmt: skip
    assert clocks(conv)["count"] == 3
    assert not ConversationLink.all_orgs.exists(), "a misfiled message is not a continuation"


def test_the_only_message_of_a_conversation_is_not_moved_to_a_new_one(a):
    conv = conversation(a)
    only = message(conv, day(1))
    with pytest.raises(RecordError, match="only message"):
        message_move_to_new(org=a.org, message=only, by=a.sales)
    assert fresh(conv) is not None and Conversation.all_orgs.filter(organisation=a.org).count() == 2


def test_splitting_moves_that_message_and_every_later_one_to_a_linked_conversation(a, thread):
    conv, (asked, answered, auto, again), promise = thread
    # Messages at the same moment are in the order they were stored, as the page shows them:
    # the first message (stored before) stays, a note stored after goes.
    Message.all_orgs.filter(pk=asked.pk).update(occurred_at=day(2))
    factories.MessageFactory(
        organisation=a.org, conversation=conv, account=a.account, occurred_at=day(2),
        kind="note", direction="internal",
    )  # fmt: skip
    Message.all_orgs.filter(pk=answered.pk).update(subject="Re: Rollout — the Paris office")

    continued = conversation_split(org=a.org, conversation=conv, from_message=answered, by=a.sales)

    assert continued.subject == "Re: Rollout — the Paris office"
    assert (continued.account, continued.owner) == (a.account, a.sales)
    moved = set(Message.all_orgs.filter(conversation=continued).values_list("pk", flat=True))
    assert answered.pk in moved and auto.pk in moved and again.pk in moved and len(moved) == 4
    assert list(Message.all_orgs.filter(conversation=conv).values_list("pk", flat=True)) == [
        asked.pk
    ]
    assert Commitment.all_orgs.get(pk=promise.pk).conversation_id == continued.pk
    assert ConversationLink.all_orgs.filter(
        from_conversation=conv, to_conversation=continued
    ).exists()
    assert clocks(conv) == {
        "count": 1, "started": day(2), "activity": day(2), "inbound": day(2), "outbound": None,
    }  # fmt: skip
    assert clocks(continued) == {
        "count": 4, "started": day(2), "activity": day(4), "inbound": day(4), "outbound": day(2),
    }  # fmt: skip


def test_a_conversation_cannot_be_split_from_its_first_message(a, thread):
    conv, (asked, *_), _ = thread
    with pytest.raises(RecordError, match="starts the conversation"):
        conversation_split(org=a.org, conversation=conv, from_message=asked, by=a.sales)
    assert Conversation.all_orgs.filter(organisation=a.org).count() == 2


def test_merging_brings_messages_promises_and_links_and_removes_the_other(a, thread):
    conv, messages_, promise = thread
    other = conversation(a, "Same thing, new subject")
    late = message(other, day(6), direction="outbound")
    theirs = factories.CommitmentFactory(organisation=a.org, conversation=other, text="Quote")
    earlier, both = conversation(a, "Earlier"), conversation(a, "Linked to both")
    links = ConversationLink.all_orgs
    links.create(organisation=a.org, from_conversation=earlier, to_conversation=other)
    links.create(organisation=a.org, from_conversation=other, to_conversation=both)
    links.create(organisation=a.org, from_conversation=conv, to_conversation=both)
    links.create(organisation=a.org, from_conversation=conv, to_conversation=other)
    already_merged = MergedConversation.all_orgs.create(
        organisation=a.org, merged_id=123_456_789, into=other
    )

    merged = conversation_merge(org=a.org, into=conv, other=other, by=a.sales)

    assert merged == conv and fresh(other) is None
    assert Message.all_orgs.get(pk=late.pk).conversation_id == conv.pk
    assert Commitment.all_orgs.get(pk=theirs.pk).conversation_id == conv.pk
    assert Commitment.all_orgs.get(pk=promise.pk).conversation_id == conv.pk
    pairs = set(
        links.filter(organisation=a.org).values_list("from_conversation", "to_conversation")
    )
    assert pairs == {(earlier.pk, conv.pk), (conv.pk, both.pk)}
    assert MergedConversation.all_orgs.get(merged_id=other.pk).into_id == conv.pk
    already_merged.refresh_from_db()
    assert already_merged.into_id == conv.pk, "a conversation merged earlier follows along"
    assert clocks(conv) == {
        "count": len(messages_) + 1, "started": day(1), "activity": day(6), "inbound": day(4),
        "outbound": day(6),
    }  # fmt: skip


def test_conversations_of_different_accounts_are_not_merged(a, thread):
    conv, _, _ = thread
    elsewhere = factories.AccountFactory(organisation=a.org)
    theirs = conversation(a, "Theirs", account=elsewhere)
    with pytest.raises(RecordError, match="same account"):
        conversation_merge(org=a.org, into=conv, other=theirs, by=a.sales)
    with pytest.raises(RecordError, match="into itself"):
        conversation_merge(org=a.org, into=conv, other=conv, by=a.sales)
    assert fresh(theirs) is not None


def test_recounting_an_empty_conversation_clears_its_turns_and_keeps_its_dates(a):
    conv = conversation(a)
    Conversation.all_orgs.filter(pk=conv.pk).update(
        message_count=3, last_inbound_at=day(1), last_outbound_at=day(1), last_activity_at=day(1)
    )
    conversations_recount(org=a.org, conversation_ids=[conv.pk])
    assert clocks(conv)["count"] == 0 and clocks(conv)["activity"] == day(1)
    assert clocks(conv)["inbound"] is None and clocks(conv)["outbound"] is None


def test_recounting_never_touches_another_organisations_conversations(a, b):
    Conversation.all_orgs.filter(pk=b.conversation.pk).update(message_count=42)
    assert conversations_recount(org=a.org, conversation_ids=[b.conversation.pk]) == 0
    assert fresh(b.conversation).message_count == 42


def test_a_conversation_merged_meanwhile_stops_the_change(a, thread):
    conv, (asked, *_), _ = thread
    other = conversation(a, "Merged by a colleague a moment ago")
    message(other, day(5))
    stale = Conversation.all_orgs.get(pk=other.pk)
    conversation_merge(org=a.org, into=conv, other=other, by=a.sales)
    with pytest.raises(RecordError, match="gone"):
        conversation_merge(org=a.org, into=conv, other=stale, by=a.sales)
    with pytest.raises(RecordError, match="gone"):
        message_move(org=a.org, message=asked, to_conversation=stale, by=a.sales)
    assert Message.all_orgs.get(pk=asked.pk).conversation_id == conv.pk
