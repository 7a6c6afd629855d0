from __future__ import annotations

import datetime
from typing import Any

from celery import shared_task
from django.utils import timezone

from conversations.search_index import messages_index, messages_index_missing
from organisations.tasks import organisation_ids, task_org

TASK_OPTIONS: dict[str, Any] = {"acks_late": True, "max_retries": 3, "retry_backoff": True}
# The sweep leaves alone messages recorded more recently than this: their own task is coming
# (behind a long import, perhaps), and indexing them twice would only cost time.
SWEEP_GRACE = datetime.timedelta(minutes=5)


@shared_task(**TASK_OPTIONS)
def reindex_messages(organisation_id: int) -> int:
    """Index every message of an organisation again (after its language changed). Idempotent."""
    with task_org(organisation_id) as org:
        if org is None:
            return 0
        return messages_index(org=org)


@shared_task(**TASK_OPTIONS)
def index_messages(organisation_id: int, message_ids: list[int]) -> int:
    """Index a batch of newly recorded messages (a mailbox sync's), after it committed.
    Idempotent: indexing a message again writes the same vector."""
    with task_org(organisation_id) as org:
        if org is None:
            return 0
        return messages_index(org=org, message_ids=message_ids)


@shared_task(**TASK_OPTIONS)
def index_missing_messages(organisation_id: int) -> int:
    """Index an organisation's messages that still have no search vector (their task was lost)."""
    with task_org(organisation_id) as org:
        if org is None:
            return 0
        return messages_index_missing(org=org, recorded_before=timezone.now() - SWEEP_GRACE)


@shared_task(**TASK_OPTIONS)
def index_all_missing_messages() -> int:
    """Beat: one sweep task per organisation. Each finds its unindexed messages through a
    partial index, so an organisation with none costs one index probe."""
    ids = organisation_ids()
    for organisation_id in ids:
        index_missing_messages.delay(organisation_id)
    return len(ids)
