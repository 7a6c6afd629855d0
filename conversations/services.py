from __future__ import annotations

import datetime
from collections.abc import Sequence

from django.db import transaction
from django.db.models import F
from django.db.models.functions import Greatest, Least
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
    """Move the conversation's and account's clocks forward (never back) in single updates.

    Automated mail (auto-replies, lists, bounces) is kept but is nobody's turn: it moves no clock.
    """
    at = message.occurred_at
    two_way = message.is_logged_interaction
    updates: dict[str, object] = {
        "last_activity_at": Greatest(F("last_activity_at"), at),
        "started_at": Least(F("started_at"), at),
        "message_count": F("message_count") + 1,
    }
    human = not message.is_automated
    if human and (message.direction == Message.Direction.INBOUND or two_way):
        updates["last_inbound_at"] = Greatest(F("last_inbound_at"), at)
    if human and (message.direction == Message.Direction.OUTBOUND or two_way):
        updates["last_outbound_at"] = Greatest(F("last_outbound_at"), at)
    Conversation.objects.for_org(org).filter(pk=conversation.pk).update(**updates)
    if human:
        Account.objects.for_org(org).filter(pk=message.account_id).update(
            last_interaction_at=Greatest(F("last_interaction_at"), at)
        )


def commitment_set_state(*, org: Organisation, commitment: Commitment, state: str) -> Commitment:
    if state not in Commitment.State.values:
        raise RecordError(f"A commitment can be open, kept or dropped, not “{state}”.")
    commitment.state = state
    commitment.kept_at = timezone.now() if state == Commitment.State.KEPT else None
    commitment.save(update_fields=["state", "kept_at"])
    return commitment
