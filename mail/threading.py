"""Threading vocabulary: normalised subjects, our reply token, known Message-IDs.

The order in which they are tried lives with the batch that uses them (mail/services.py):
In-Reply-To, then References (newest first), against the organisation's known Message-IDs;
then the reply token in Message-IDs Threadline generates; then the same normalised subject
with someone in common at the same account within 30 days.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import timedelta
from functools import lru_cache

from django.conf import settings

from conversations.models import Message
from organisations.models import Organisation

SUBJECT_WINDOW = timedelta(days=30)
# Message-IDs of mail Threadline sends: <tl.c{conversation id}.{signature}.{random}@host>.
# The signature is what makes the token worth trusting: anyone can type a conversation id.
REPLY_TOKEN = re.compile(r"^<tl\.c(\d+)\.([0-9a-f]{20})\.[^@>]+@")


def _signature(org_id: int, conversation_id: int) -> str:
    key = settings.SECRET_KEY.encode()
    message = f"reply-token:{org_id}:{conversation_id}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:20]


def reply_token_message_id(*, org_id: int, conversation_id: int, host: str) -> str:
    """A Message-ID for mail we send that leads replies back to the conversation."""
    signature = _signature(org_id, conversation_id)
    return f"<tl.c{conversation_id}.{signature}.{secrets.token_hex(8)}@{host}>"


def conversation_from_token(*, org_id: int, message_id: str) -> int | None:
    match = REPLY_TOKEN.match(message_id)
    if match is None:
        return None
    conversation_id = int(match.group(1))
    if not hmac.compare_digest(match.group(2), _signature(org_id, conversation_id)):
        return None
    return conversation_id


_PREFIX = re.compile(
    r"^\s*((re|fw|fwd|aw|wg|sv|vs|antw|rif|r|tr|ref|odp|res|enc|doorst|vl|ynt)"
    r"(\[\d+\]|\(\d+\))?\s*:\s*|\[[^\]]{1,40}\]\s*)",
    re.IGNORECASE,
)


@lru_cache(maxsize=4096)  # the same subjects come back again and again in one sync
def normalise_subject(subject: str) -> str:
    """'RE[2]: AW: Fwd: [acme] Pricing ' -> 'pricing'."""
    previous = None
    subject = subject.strip()
    while previous != subject:
        previous = subject
        subject = _PREFIX.sub("", subject, count=1).strip()
    return " ".join(subject.lower().split())


def known_message_ids(*, org: Organisation, message_ids: list[str]) -> dict[str, int]:
    """Message-ID -> conversation id, for those of `message_ids` the organisation has."""
    from mail.bulk import select_any

    return dict(
        select_any(
            org=org,
            model=Message,
            columns=("message_id", "conversation_id"),
            key="message_id",
            values=message_ids,
        )
    )
