from typing import Any

from celery import shared_task

from health.services import (
    health_history_rebuild,
    health_history_reevaluate,
    health_snapshots_refresh,
)
from organisations.tasks import organisation_ids, task_org

TASK_OPTIONS: dict[str, Any] = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "max_retries": 3,
    "retry_backoff": True,
}


@shared_task(**TASK_OPTIONS, soft_time_limit=1800, time_limit=1900)
def refresh_health(organisation_id: int) -> int:
    """Today's snapshot of every account of one organisation. Idempotent (one row a day)."""
    with task_org(organisation_id) as org:
        if org is None:
            return 0
        return health_snapshots_refresh(org=org)


@shared_task(**TASK_OPTIONS)
def refresh_all_health() -> int:
    """Nightly: one task per organisation."""
    ids = organisation_ids()
    for organisation_id in ids:
        refresh_health.delay(organisation_id)
    return len(ids)


@shared_task(**TASK_OPTIONS)
def refresh_account_health(organisation_id: int, account_ids: list[int]) -> int:
    """After new messages: these accounts' snapshot for today, current within seconds."""
    with task_org(organisation_id) as org:
        if org is None:
            return 0
        return health_snapshots_refresh(org=org, account_ids=account_ids)


@shared_task(**TASK_OPTIONS, soft_time_limit=3600, time_limit=3700)
def rebuild_health_history(organisation_id: int) -> int:
    """After the settings change: the last 90 days again, so trends stay comparable."""
    with task_org(organisation_id) as org:
        if org is None:
            return 0
        return health_history_rebuild(org=org)


@shared_task(**TASK_OPTIONS, soft_time_limit=1800, time_limit=1900)
def reevaluate_health_history(organisation_id: int) -> int:
    """After new weights or thresholds: every stored snapshot scored again from its inputs."""
    with task_org(organisation_id) as org:
        if org is None:
            return 0
        return health_history_reevaluate(org=org)
