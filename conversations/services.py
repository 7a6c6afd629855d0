from __future__ import annotations

import datetime
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import Account
from accounts.services import account_activity_refresh
from contacts.models import Contact
from conversations.models import (
    Commitment,
    Conversation,
    ConversationLink,
    MergedConversation,
    Message,
    Participant,
)
from conversations.search_index import messages_index_soon
from conversations.state import conversation_states_refresh
from organisations.calendar import BusinessCalendar
from organisations.models import Organisation, User


class RecordError(Exception):
    """A change to the record that cannot be made; the message says why, for people."""


def _subject_from(body: str) -> str:
    first_line = next((line.strip() for line in body.splitlines() if line.strip()), "")
    return (first_line[:80] + "…") if len(first_line) > 80 else first_line or "Conversation"


@transaction.atomic
def interaction_log(
    *,
    org: Organisation,
    account: Account,
    author: User,
    kind: str,
    body: str,
    occurred_at: datetime.datetime,
    conversation: Conversation | None = None,
    subject: str = "",
    initiated_by: str = Message.Direction.OUTBOUND,
    contacts: Sequence[Contact] = (),
    we_owe: str = "",
    we_owe_due: datetime.date | None = None,
    they_owe: str = "",
    they_owe_due: datetime.date | None = None,
) -> Message:
    """Record a call, meeting or note, who took part, and the promises made on either side."""
    if kind not in {Message.Kind.CALL, Message.Kind.MEETING, Message.Kind.NOTE}:
        raise RecordError("Only calls, meetings and notes can be logged by hand.")
    if conversation is not None and conversation.account_id != account.pk:
        raise RecordError("That conversation belongs to another account.")
    if any(contact.account_id != account.pk for contact in contacts):
        raise RecordError("Everyone who took part must be a person at this account.")
    if conversation is None:
        conversation = Conversation.objects.for_org(org).create(
            account=account,
            subject=subject.strip() or _subject_from(body),
            owner=account.owner or author,
            started_at=occurred_at,
            last_activity_at=occurred_at,
        )
    # A note is ours alone; a call or meeting is a two-way exchange, whoever started it.
    direction = Message.Direction.INTERNAL if kind == Message.Kind.NOTE else initiated_by
    message = Message.objects.for_org(org).create(
        conversation=conversation,
        account=account,
        kind=kind,
        direction=direction,
        sender_member=author,
        occurred_at=occurred_at,
        subject=conversation.subject,
        body_text=body.strip(),
        created_by=author,
    )
    participants = [Participant(message=message, member=author, role=Participant.Role.ATTENDEE)]
    participants += [
        Participant(message=message, contact=contact, role=Participant.Role.ATTENDEE)
        for contact in contacts
    ]
    Participant.objects.for_org(org).bulk_create(participants)
    commitments = [
        Commitment(
            conversation=conversation,
            message=message,
            owed_by=owed_by,
            text=text.strip(),
            due_on=due_on,
            created_by=author,
        )
        for owed_by, text, due_on in (
            (Commitment.OwedBy.US, we_owe, we_owe_due),
            (Commitment.OwedBy.THEM, they_owe, they_owe_due),
        )
        if text.strip()
    ]
    calendar = BusinessCalendar.for_org(org)
    for commitment in commitments:
        commitment.set_deadlines(calendar)
    Commitment.objects.for_org(org).bulk_create(commitments)
    _commitments_changed(org, commitments, change="created")
    record_activity(org=org, conversation=conversation, message=message)
    return message


def record_activity(*, org: Organisation, conversation: Conversation, message: Message) -> None:
    record_activity_bulk(org=org, messages=[message])


@dataclass
class _Clocks:
    """What a set of new messages does to one conversation's clocks."""

    latest: datetime.datetime
    earliest: datetime.datetime
    added: int = 0
    inbound: datetime.datetime | None = None
    outbound: datetime.datetime | None = None

    def add(self, message: Message) -> None:
        at, human = message.occurred_at, not message.is_automated
        two_way = message.is_logged_interaction
        self.latest, self.earliest = max(self.latest, at), min(self.earliest, at)
        self.added += 1
        if human and (message.direction == Message.Direction.INBOUND or two_way):
            self.inbound = max(self.inbound or at, at)
        if human and (message.direction == Message.Direction.OUTBOUND or two_way):
            self.outbound = max(self.outbound or at, at)


def record_activity_bulk(*, org: Organisation, messages: Sequence[Message]) -> None:
    """Move conversations' and accounts' clocks forward (never back), then derive whose turn
    it is, settle follow-ups the new turns answer and suggest the promises found in them.

    Automated mail (auto-replies, lists, bounces) is kept but is nobody's turn: it moves no
    turn clock and is no interaction with the account. A logged call or meeting is two-way.
    """
    clocks: dict[int, _Clocks] = {}
    accounts: dict[int, datetime.datetime] = {}
    for message in messages:
        at = message.occurred_at
        clocks.setdefault(message.conversation_id, _Clocks(latest=at, earliest=at)).add(message)
        # Automated mail and our own notes are no contact with the customer.
        if not message.is_automated and message.direction != Message.Direction.INTERNAL:
            accounts[message.account_id] = max(accounts.get(message.account_id, at), at)
    if not clocks:
        return
    # One array per column, and the organisation as a column too, not a constant: with a
    # constant the planner (which cannot estimate the row-level security filter) scans every
    # conversation of the organisation once per row; as a join column it finds each by key.
    ids = list(clocks)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE conversations_conversation AS c
               SET last_activity_at = GREATEST(c.last_activity_at, v.latest),
                   started_at = LEAST(c.started_at, v.earliest),
                   message_count = c.message_count + v.added,
                   last_inbound_at = GREATEST(c.last_inbound_at, v.inbound),
                   last_outbound_at = GREATEST(c.last_outbound_at, v.outbound)
              FROM unnest(%s::bigint[], %s::bigint[], %s::timestamptz[], %s::timestamptz[],
                          %s::int[], %s::timestamptz[], %s::timestamptz[])
                   AS v(org, id, latest, earliest, added, inbound, outbound)
             WHERE c.organisation_id = v.org AND c.id = v.id
            """,
            [
                [org.pk] * len(ids),
                ids,
                *(
                    [getattr(clocks[i], column) for i in ids]
                    for column in ("latest", "earliest", "added", "inbound", "outbound")
                ),
            ],
        )
        if accounts:
            cursor.execute(
                """
                UPDATE accounts_account AS a
                   SET last_interaction_at = GREATEST(a.last_interaction_at, v.at)
                  FROM unnest(%s::bigint[], %s::bigint[], %s::timestamptz[]) AS v(org, id, at)
                 WHERE a.organisation_id = v.org AND a.id = v.id
                """,
                [[org.pk] * len(accounts), list(accounts), list(accounts.values())],
            )
    conversation_states_refresh(org=org, conversation_ids=clocks, added=messages)
    messages_index_soon(org=org, message_ids=[m.pk for m in messages])
    _settle_followups(org, list(clocks))
    commitments_suggest(org=org, messages=messages)
    _refresh_health(org, {message.account_id for message in messages})
    _messages_created(org, messages)


def _settle_followups(org: Organisation, conversation_ids: list[int]) -> None:
    from followups.scan import followups_settle  # follow-ups build on conversations

    followups_settle(org=org, conversation_ids=conversation_ids)


def _refresh_health(org: Organisation, account_ids: set[int]) -> None:
    from health.services import health_refresh_after_messages  # health builds on conversations

    health_refresh_after_messages(org=org, account_ids=account_ids)


def _messages_created(org: Organisation, messages: Sequence[Message]) -> None:
    from webhooks.events import emit_many, message_data  # webhooks build on conversations

    # A cache read, and nothing built, when no webhook subscribes: one call per batch.
    emit_many(org, "message.created", (message_data(m) for m in messages))


def _commitments_changed(
    org: Organisation, commitments: Sequence[Commitment], *, change: str, previous: str = ""
) -> None:
    from webhooks.events import commitment_data, emit_many

    if commitments:
        emit_many(
            org,
            "commitment.changed",
            (
                commitment_data(c, change=change, previous_state=previous or None)
                for c in commitments
            ),
        )


def commitment_add(
    *,
    org: Organisation,
    conversation: Conversation,
    owed_by: str,
    text: str,
    due_on: datetime.date | None = None,
    message: Message | None = None,
    by: User | None = None,
) -> Commitment:
    """A promise added by hand, on a conversation or on the message where it was made."""
    if not text.strip():
        raise RecordError("Say what was promised.")
    if message is not None and message.conversation_id != conversation.pk:
        raise RecordError("That message is in another conversation.")
    commitment = Commitment(
        organisation=org,
        conversation=conversation,
        message=message,
        owed_by=owed_by,
        text=text.strip()[:500],
        due_on=due_on,
        created_by=by,
    )
    commitment.set_deadlines(BusinessCalendar.for_org(org))
    commitment.save()
    _commitments_changed(org, [commitment], change="created")
    return commitment


def commitments_suggest(*, org: Organisation, messages: Sequence[Message]) -> list[Commitment]:
    """Promises found in the new text of human email: suggestions a member confirms or rejects."""
    from conversations.detection import suggest_commitments

    calendar = BusinessCalendar.for_org(org)
    suggestions = []
    for message in messages:
        if message.kind != Message.Kind.EMAIL or message.is_automated or not message.body_text:
            continue
        if message.direction == Message.Direction.INTERNAL:
            continue
        for found in suggest_commitments(
            message.body_text,
            written_at=message.occurred_at,
            tz=calendar.tz,
            from_us=message.direction == Message.Direction.OUTBOUND,
        ):
            commitment = Commitment(
                organisation=org,
                conversation_id=message.conversation_id,
                message=message,
                owed_by=found.owed_by,
                text=found.text[:500],
                due_on=found.due_on,
                state=Commitment.State.SUGGESTED,
            )
            commitment.set_deadlines(calendar)
            suggestions.append(commitment)
    created = Commitment.objects.for_org(org).bulk_create(suggestions)
    _commitments_changed(org, created, change="suggested")
    return created


_STATE_CHANGES: dict[str, set[str]] = {
    # from -> the states a member may move it to
    Commitment.State.SUGGESTED: {Commitment.State.OPEN, Commitment.State.NOT_A_PROMISE},
    Commitment.State.OPEN: {
        Commitment.State.KEPT,
        Commitment.State.DROPPED,
        Commitment.State.NOT_A_PROMISE,
    },
    Commitment.State.KEPT: {Commitment.State.OPEN},
    Commitment.State.DROPPED: {Commitment.State.OPEN},
    Commitment.State.NOT_A_PROMISE: {Commitment.State.OPEN},
}


def commitment_set_state(
    *,
    org: Organisation,
    commitment: Commitment,
    state: str,
    kept_by_message: Message | None = None,
) -> Commitment:
    """Confirm or reject a suggestion; mark a promise kept (perhaps by a message) or dropped."""
    if state not in _STATE_CHANGES.get(commitment.state, set()):
        current = Commitment.State(commitment.state).label.lower()
        raise RecordError(f"A commitment that is {current} cannot become “{state}”.")
    if (
        kept_by_message is not None
        and kept_by_message.conversation_id != commitment.conversation_id
    ):
        raise RecordError("The message that keeps a promise must be in its conversation.")
    previous, commitment.state = commitment.state, state
    kept = state == Commitment.State.KEPT
    commitment.kept_at = (
        (kept_by_message.occurred_at if kept_by_message else timezone.now()) if kept else None
    )
    commitment.kept_by_message = kept_by_message if kept else None
    commitment.save(update_fields=["state", "kept_at", "kept_by_message"])
    if state == Commitment.State.OPEN:
        _forget_answers(org, commitment)
    _settle_followups(org, [commitment.conversation_id])
    _refresh_health(org, {commitment.conversation.account_id})
    _commitments_changed(org, [commitment], change="state", previous=previous)
    return commitment


def _forget_answers(org: Organisation, commitment: Commitment) -> None:
    """A promise opened again is tracked again: earlier answers to it no longer hold."""
    from followups.models import FollowUp

    FollowUp.objects.for_org(org).filter(commitment=commitment).exclude(
        resolution__in=["", FollowUp.Resolution.RECORD]
    ).update(resolution=FollowUp.Resolution.RECORD)


def conversations_recount(*, org: Organisation, conversation_ids: Collection[int]) -> int:
    """Set conversations' counts and clocks from the messages they hold now: one statement.

    `record_activity_bulk` only moves clocks forward as messages arrive; this recomputes them
    after messages left, with the same rules: every message counts and is activity, automated
    mail moves neither turn clock, a call or meeting moves both, a note or an internal email
    neither. A conversation left with no messages keeps its dates and has no turns. Whose
    turn it is is derived again, and follow-ups the move answered are settled.
    """
    ids = sorted(set(conversation_ids))
    if not ids:
        return 0
    human = "m.automated_reason = ''"
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE conversations_conversation AS c
               SET message_count = s.added,
                   started_at = COALESCE(s.earliest, c.started_at),
                   last_activity_at = COALESCE(s.latest, c.last_activity_at),
                   last_inbound_at = s.inbound,
                   last_outbound_at = s.outbound
              FROM (
                    SELECT conv.id,
                           count(m.id) AS added,
                           min(m.occurred_at) AS earliest,
                           max(m.occurred_at) AS latest,
                           max(m.occurred_at) FILTER (
                               WHERE {human} AND (m.direction = %s OR m.kind IN (%s, %s))
                           ) AS inbound,
                           max(m.occurred_at) FILTER (
                               WHERE {human} AND (m.direction = %s OR m.kind IN (%s, %s))
                           ) AS outbound
                      FROM conversations_conversation conv
                      LEFT JOIN conversations_message m
                        ON m.organisation_id = conv.organisation_id AND m.conversation_id = conv.id
                     WHERE conv.organisation_id = %s AND conv.id = ANY(%s)
                     GROUP BY conv.id
                   ) AS s
             WHERE c.organisation_id = %s AND c.id = s.id
            """,  # noqa: S608 - only a fixed condition is interpolated
            [
                Message.Direction.INBOUND,
                Message.Kind.CALL,
                Message.Kind.MEETING,
                Message.Direction.OUTBOUND,
                Message.Kind.CALL,
                Message.Kind.MEETING,
                org.pk,
                ids,
                org.pk,
            ],  # fmt: skip
        )
        counted = cursor.rowcount
    # Whose turn it is follows the messages, and so do the follow-ups.
    conversation_states_refresh(org=org, conversation_ids=ids)
    _settle_followups(org, ids)
    return counted


def _lock_conversations(org: Organisation, conversation_ids: Collection[int]) -> None:
    """Hold these conversations until commit, always in the same order.

    A sync storing a message into one of them waits (its foreign key check needs the row), so
    a recount here never misses a message that lands meanwhile, nor is undone by one. One that
    is gone (merged by a colleague a moment ago) stops the change.
    """
    wanted = set(conversation_ids)
    locked = set(
        Conversation.objects.for_org(org)
        .filter(pk__in=wanted)
        .order_by("pk")
        .select_for_update()
        .values_list("pk", flat=True)
    )
    if locked != wanted:
        raise RecordError("That conversation is gone: it was merged or emptied meanwhile.")


def _absorb(*, org: Organisation, into: Conversation, other: Conversation, by: User | None) -> None:
    """Everything of `other` goes to `into`, then `other` is deleted; its old address leads
    to `into`."""
    Message.objects.for_org(org).filter(conversation=other).update(
        conversation=into, account_id=into.account_id
    )
    Commitment.objects.for_org(org).filter(conversation=other).update(conversation=into)
    links = ConversationLink.objects.for_org(org)
    links.filter(
        Q(from_conversation=other, to_conversation=into)
        | Q(from_conversation=into, to_conversation=other)
    ).delete()
    # A conversation linked to both keeps its link to `into`; the other one goes with `other`.
    already = {
        pk
        for pair in links.filter(Q(from_conversation=into) | Q(to_conversation=into)).values_list(
            "from_conversation_id", "to_conversation_id"
        )
        for pk in pair
    }
    links.filter(from_conversation=other).exclude(to_conversation__in=already).update(
        from_conversation=into
    )
    links.filter(to_conversation=other).exclude(from_conversation__in=already).update(
        to_conversation=into
    )
    _followups_follow(org, into=into, other=other)
    merged = MergedConversation.objects.for_org(org)
    merged.filter(into=other).update(into=into)  # earlier merges into `other` follow it
    merged.create(merged_id=other.pk, into=into, merged_by=by)
    Conversation.objects.for_org(org).filter(pk=other.pk).delete()


def _followups_follow(org: Organisation, *, into: Conversation, other: Conversation) -> None:
    """Members' answers and snoozes survive a merge: `other`'s follow-ups move to `into`
    (an open one only where `into` has none for that reason), and a "no reply needed" that
    covered `other`'s last customer turn still covers it."""
    from followups.models import FollowUp

    followups = FollowUp.objects.for_org(org)
    taken = set(
        followups.filter(conversation=into, resolved_at=None).values_list("reason", flat=True)
    )
    followups.filter(conversation=other).exclude(resolved_at=None, reason__in=taken).update(
        conversation=into, account_id=into.account_id
    )
    answered = [c.no_reply_needed_at for c in (into, other) if c.no_reply_needed_at]
    if other.no_reply_needed_at and (
        into.no_reply_needed_at is None or other.no_reply_needed_at > into.no_reply_needed_at
    ):
        Conversation.objects.for_org(org).filter(pk=into.pk).update(
            no_reply_needed_at=max(answered)
        )


@dataclass(frozen=True)
class MoveResult:
    message: Message
    # The conversation the message left had nothing else and was merged into the new one.
    source_removed: bool


@transaction.atomic
def message_move(
    *, org: Organisation, message: Message, to_conversation: Conversation, by: User | None
) -> MoveResult:
    """Move one message (its people and the promises made in it) into another conversation of
    the organisation, at any account: the message's account follows its conversation.

    A conversation left with no messages is merged into the one the message went to (its
    other promises and its links go there too, and its address leads there).
    """
    if to_conversation.organisation_id != org.pk or message.organisation_id != org.pk:
        raise RecordError("That conversation does not exist.")
    message = Message.objects.for_org(org).select_for_update().get(pk=message.pk)
    if message.conversation_id == to_conversation.pk:
        raise RecordError("The message is already in that conversation.")
    source = Conversation.objects.for_org(org).get(pk=message.conversation_id)
    _lock_conversations(org, [source.pk, to_conversation.pk])
    Message.objects.for_org(org).filter(pk=message.pk).update(
        conversation=to_conversation, account_id=to_conversation.account_id
    )
    Commitment.objects.for_org(org).filter(message=message).update(conversation=to_conversation)
    source_removed = not Message.objects.for_org(org).filter(conversation=source).exists()
    if source_removed:
        _absorb(org=org, into=to_conversation, other=source, by=by)
    conversations_recount(
        org=org, conversation_ids=[to_conversation.pk, *([] if source_removed else [source.pk])]
    )
    if source.account_id != to_conversation.account_id:
        account_activity_refresh(
            org=org, account_ids={source.account_id, to_conversation.account_id}
        )
    _refresh_health(org, {source.account_id, to_conversation.account_id})
    message.conversation, message.account_id = to_conversation, to_conversation.account_id
    return MoveResult(message=message, source_removed=source_removed)


@transaction.atomic
def message_move_to_new(*, org: Organisation, message: Message, by: User | None) -> MoveResult:
    """Move one message out into a conversation of its own, at the same account."""
    source = Conversation.objects.for_org(org).get(pk=message.conversation_id)
    if not Message.objects.for_org(org).filter(conversation=source).exclude(pk=message.pk).exists():
        raise RecordError("It is the only message of its conversation already.")
    conversation = Conversation.objects.for_org(org).create(
        account_id=source.account_id,
        subject=(message.subject.strip() or source.subject)[:300],
        owner_id=source.owner_id,
        started_at=message.occurred_at,
        last_activity_at=message.occurred_at,
    )
    return message_move(org=org, message=message, to_conversation=conversation, by=by)


@transaction.atomic
def conversation_split(
    *, org: Organisation, conversation: Conversation, from_message: Message, by: User | None
) -> Conversation:
    """A new conversation (same account and owner, the message's subject) takes this message
    and every later one; the two are linked so each shows where the other is."""
    _lock_conversations(org, [conversation.pk])
    from_message = Message.objects.for_org(org).get(pk=from_message.pk)
    if from_message.conversation_id != conversation.pk:
        raise RecordError("That message is not in this conversation.")
    messages = Message.objects.for_org(org).filter(conversation=conversation)
    later = Q(occurred_at__gt=from_message.occurred_at) | Q(
        occurred_at=from_message.occurred_at, pk__gte=from_message.pk
    )
    if not messages.exclude(later).exists():
        raise RecordError("This message starts the conversation: split from a later one.")
    continued = Conversation.objects.for_org(org).create(
        account_id=conversation.account_id,
        subject=(from_message.subject.strip() or conversation.subject)[:300],
        owner_id=conversation.owner_id,
        started_at=from_message.occurred_at,
        last_activity_at=from_message.occurred_at,
    )
    messages.filter(later).update(conversation=continued)
    Commitment.objects.for_org(org).filter(
        conversation=conversation, message__conversation=continued
    ).update(conversation=continued)
    ConversationLink.objects.for_org(org).create(
        from_conversation=conversation, to_conversation=continued
    )
    conversations_recount(org=org, conversation_ids=[conversation.pk, continued.pk])
    _refresh_health(org, {conversation.account_id})
    continued.refresh_from_db()
    return continued


@transaction.atomic
def conversation_merge(
    *, org: Organisation, into: Conversation, other: Conversation, by: User | None
) -> Conversation:
    """All of `other` (messages, promises, links) goes into `into`; `other` is deleted and its
    address leads to `into`. Only conversations with the same account are merged: mail filed
    under the wrong account is put right by moving its messages."""
    if into.pk == other.pk:
        raise RecordError("A conversation cannot be merged into itself.")
    if into.account_id != other.account_id:
        raise RecordError(
            "Only conversations with the same account can be merged; "
            "move single messages to put them under another account."
        )
    _lock_conversations(org, [into.pk, other.pk])
    _absorb(org=org, into=into, other=other, by=by)
    conversations_recount(org=org, conversation_ids=[into.pk])
    _refresh_health(org, {into.account_id})
    into.refresh_from_db()
    return into
