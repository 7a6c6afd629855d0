"""Which conversation an email belongs to.

In order: In-Reply-To, then References (newest first), against the organisation's known
Message-IDs; then the reply token in Message-IDs Threadline generates; then the same
normalised subject with overlapping people at the same account within 30 days.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from accounts.models import Account
from conversations.models import Conversation, Message, Participant
from organisations.models import Organisation

SUBJECT_WINDOW = timedelta(days=30)
# Message-IDs of mail Threadline sends: <tl.c{conversation id}.{random}@host>
REPLY_TOKEN = re.compile(r"^<tl\.c(\d+)\.[^@>]+@")
_PREFIX = re.compile(
    r"^\s*((re|fw|fwd|aw|wg|sv|vs|antw|rif|r|tr|ref|odp|res|enc|doorst|vl|ynt)"
    r"(\[\d+\]|\(\d+\))?\s*:\s*|\[[^\]]{1,40}\]\s*)",
    re.IGNORECASE,
)


def normalise_subject(subject: str) -> str:
    """'RE[2]: AW: Fwd: [acme] Pricing ' -> 'pricing'."""
    previous = None
    subject = subject.strip()
    while previous != subject:
        previous = subject
        subject = _PREFIX.sub("", subject, count=1).strip()
    return " ".join(subject.lower().split())


def find_conversation(
    *,
    org: Organisation,
    in_reply_to: str,
    references: list[str],
    subject: str,
    addresses: set[str],
    account: Account | None,
    occurred_at: datetime,
    known: dict[str, int] | None = None,
) -> Conversation | None:
    """`known` maps Message-IDs to conversation ids when the caller looked them up in bulk."""
    candidates = [i for i in [in_reply_to, *reversed(references)] if i]
    if known is None:
        known = known_message_ids(org=org, message_ids=candidates)
    for message_id in candidates:
        if message_id in known:
            return Conversation.objects.for_org(org).get(pk=known[message_id])
    for message_id in candidates:
        token = REPLY_TOKEN.match(message_id)
        if token:
            found = Conversation.objects.for_org(org).filter(pk=int(token.group(1))).first()
            if found is not None:
                return found
    return conversation_by_subject(
        org=org, subject=subject, addresses=addresses, account=account, occurred_at=occurred_at
    )


def known_message_ids(*, org: Organisation, message_ids: list[str]) -> dict[str, int]:
    if not message_ids:
        return {}
    return dict(
        Message.objects.for_org(org)
        .filter(message_id__in=message_ids)
        .values_list("message_id", "conversation_id")
    )


def conversation_by_subject(
    *,
    org: Organisation,
    subject: str,
    addresses: set[str],
    account: Account | None,
    occurred_at: datetime,
) -> Conversation | None:
    """Same normalised subject, someone in common, same account, within 30 days."""
    wanted = normalise_subject(subject)
    if account is None or not wanted or not addresses:
        return None
    recent = list(
        Conversation.objects.for_org(org)
        .filter(
            account=account,
            last_activity_at__gte=occurred_at - SUBJECT_WINDOW,
            last_activity_at__lte=occurred_at + SUBJECT_WINDOW,
        )
        .order_by("-last_activity_at")
        .only("pk", "subject", "account_id")
    )
    same_subject = [c.pk for c in recent if normalise_subject(c.subject) == wanted]
    if not same_subject:
        return None
    overlapping = (
        Participant.objects.for_org(org)
        .filter(message__conversation_id__in=same_subject, address__in=addresses)
        .values_list("message__conversation_id", flat=True)
        .first()
    )
    return next((c for c in recent if c.pk == overlapping), None)
