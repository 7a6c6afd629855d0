"""Threading vocabulary: normalised subjects, our reply token, known Message-IDs.

The order in which they are tried lives with the batch that uses them (mail/services.py):
In-Reply-To, then References (newest first), against the organisation's known Message-IDs;
then the reply token in Message-IDs Threadline generates; then the same normalised subject
with someone in common at the same account within 30 days.
"""

from __future__ import annotations

import re
from datetime import timedelta

from conversations.models import Message
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


def known_message_ids(*, org: Organisation, message_ids: list[str]) -> dict[str, int]:
    if not message_ids:
        return {}
    return dict(
        Message.objects.for_org(org)
        .filter(message_id__in=message_ids)
        .values_list("message_id", "conversation_id")
    )
