from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from accounts.models import Account
from contacts.models import Contact
from conversations.models import Commitment, Conversation, Message, Participant
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


def record_activity_bulk(*, org: Organisation, messages: Sequence[Message]) -> None:
    """Move conversations' and accounts' clocks forward (never back): two statements in all.

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


def commitment_set_state(*, org: Organisation, commitment: Commitment, state: str) -> Commitment:
    if state not in Commitment.State.values:
        raise RecordError(f"A commitment can be open, kept or dropped, not “{state}”.")
    commitment.state = state
    commitment.kept_at = timezone.now() if state == Commitment.State.KEPT else None
    commitment.save(update_fields=["state", "kept_at"])
    return commitment
