from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from accounts.models import Account
from contacts.models import Contact
from conversations.models import Commitment, Conversation, Message, Participant
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


def _values(rows: int, types: str) -> str:
    """Placeholders for a VALUES list of `rows` rows with these column types."""
    casts = ", ".join(f"%s::{name}" for name in types.split())
    return ", ".join([f"({casts})"] * rows)


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
        if not message.is_automated:
            accounts[message.account_id] = max(accounts.get(message.account_id, at), at)
    if not clocks:
        return
    params: list[Any] = []
    for conversation_id, c in clocks.items():
        params += [conversation_id, c.latest, c.earliest, c.added, c.inbound, c.outbound]
    values = _values(len(clocks), "bigint timestamptz timestamptz int timestamptz timestamptz")
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE conversations_conversation AS c
               SET last_activity_at = GREATEST(c.last_activity_at, v.latest),
                   started_at = LEAST(c.started_at, v.earliest),
                   message_count = c.message_count + v.added,
                   last_inbound_at = GREATEST(c.last_inbound_at, v.inbound),
                   last_outbound_at = GREATEST(c.last_outbound_at, v.outbound)
              FROM (VALUES {values}) AS v(id, latest, earliest, added, inbound, outbound)
             WHERE c.organisation_id = %s AND c.id = v.id
            """,  # noqa: S608 - only placeholders are interpolated
            [*params, org.pk],
        )
        if accounts:
            cursor.execute(
                f"""
                UPDATE accounts_account AS a
                   SET last_interaction_at = GREATEST(a.last_interaction_at, v.at)
                  FROM (VALUES {_values(len(accounts), "bigint timestamptz")}) AS v(id, at)
                 WHERE a.organisation_id = %s AND a.id = v.id
                """,  # noqa: S608 - only placeholders are interpolated
                [*(value for item in accounts.items() for value in item), org.pk],
            )
    conversation_states_refresh(org=org, conversation_ids=clocks)
    _settle_followups(org, list(clocks))
    commitments_suggest(org=org, messages=messages)


def _settle_followups(org: Organisation, conversation_ids: list[int]) -> None:
    from followups.scan import followups_settle  # follow-ups build on conversations

    followups_settle(org=org, conversation_ids=conversation_ids)


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
    return Commitment.objects.for_org(org).bulk_create(suggestions)


_STATE_CHANGES: dict[str, set[str]] = {
    # from -> the states a member may move it to
    Commitment.State.SUGGESTED: {Commitment.State.OPEN, Commitment.State.NOT_A_PROMISE},
    Commitment.State.OPEN: {Commitment.State.KEPT, Commitment.State.DROPPED},
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
    commitment.state = state
    kept = state == Commitment.State.KEPT
    commitment.kept_at = (
        (kept_by_message.occurred_at if kept_by_message else timezone.now()) if kept else None
    )
    commitment.kept_by_message = kept_by_message if kept else None
    commitment.save(update_fields=["state", "kept_at", "kept_by_message"])
    _settle_followups(org, [commitment.conversation_id])
    return commitment
