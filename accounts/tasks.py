from typing import Any

from celery import shared_task

from accounts.services import account_activity_refresh, account_rhythm_refresh
from contacts.services import contacts_rhythm_refresh
from organisations.tasks import organisation_ids, task_org

TASK_OPTIONS: dict[str, Any] = {"acks_late": True, "max_retries": 3, "retry_backoff": True}


@shared_task(**TASK_OPTIONS)
def refresh_account_activity(organisation_id: int) -> int:
    """Repair each account's last-interaction time and rhythm from its messages. Idempotent."""
    with task_org(organisation_id) as org:
        if org is None:
            return 0
        return (
            account_activity_refresh(org=org)
            + account_rhythm_refresh(org=org)
            + contacts_rhythm_refresh(org=org)
        )


@shared_task(**TASK_OPTIONS)
def refresh_all_account_activity() -> int:
    ids = organisation_ids()
    for organisation_id in ids:
        refresh_account_activity.delay(organisation_id)
    return len(ids)
