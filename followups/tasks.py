from __future__ import annotations

from typing import Any

from celery import shared_task

from followups.digest import DigestNotSent, digest_send_due
from followups.scan import followups_scan
from organisations.tasks import organisation_ids, task_org

TASK_OPTIONS: dict[str, Any] = {"acks_late": True, "max_retries": 3, "retry_backoff": True}


@shared_task(**TASK_OPTIONS)
def scan_followups(organisation_id: int) -> int:
    """Open and resolve one organisation's follow-ups. Idempotent."""
    with task_org(organisation_id) as org:
        if org is None:
            return 0
        result = followups_scan(org=org)
        return result.opened + result.resolved


@shared_task(**TASK_OPTIONS)
def scan_all_followups() -> int:
    ids = organisation_ids()
    for organisation_id in ids:
        scan_followups.delay(organisation_id)
    return len(ids)


@shared_task(**TASK_OPTIONS, autoretry_for=(DigestNotSent,))
def send_digests(organisation_id: int) -> int:
    """Each member's morning email, once per working day, when something needs them."""
    with task_org(organisation_id) as org:
        if org is None:
            return 0
        return digest_send_due(org=org)


@shared_task(**TASK_OPTIONS)
def send_all_digests() -> int:
    ids = organisation_ids()
    for organisation_id in ids:
        send_digests.delay(organisation_id)
    return len(ids)
