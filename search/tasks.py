from __future__ import annotations

from typing import Any

from celery import shared_task

from conversations.search_index import messages_index
from organisations.tasks import task_org

TASK_OPTIONS: dict[str, Any] = {"acks_late": True, "max_retries": 3, "retry_backoff": True}


@shared_task(**TASK_OPTIONS)
def reindex_messages(organisation_id: int) -> int:
    """Index every message of an organisation again (after its language changed). Idempotent."""
    with task_org(organisation_id) as org:
        if org is None:
            return 0
        return messages_index(org=org)
