import datetime
from typing import Any

from celery import shared_task
from django.conf import settings

from organisations.tasks import organisation_ids, task_org

TASK_OPTIONS: dict[str, Any] = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    # Connect 5 s + reads of 10 s each: a receiver that trickles bytes is cut off here.
    "soft_time_limit": 60,
    "time_limit": 90,
}


@shared_task(**TASK_OPTIONS)
def webhook_deliver(organisation_id: int, delivery_id: int) -> dict[str, Any]:
    """One attempt at a delivery; a failure schedules the next with exponential backoff.
    Safe to run twice: only the run that claims the delivery sends."""
    from webhooks.services import delivery_attempt

    with task_org(organisation_id) as org:
        if org is None:
            return {"outcome": "gone"}
        attempt = delivery_attempt(org=org, delivery_id=delivery_id)
    if attempt.retry_in is not None:
        webhook_deliver.apply_async((organisation_id, delivery_id), countdown=attempt.retry_in)
    return {"outcome": attempt.outcome, "error": attempt.error}


@shared_task(**TASK_OPTIONS)
def webhook_sweep() -> int:
    """Every few minutes (beat): enqueue pending deliveries whose task was lost, and drop
    finished ones past WEBHOOK_LOG_DAYS."""
    from webhooks.events import enqueue
    from webhooks.services import deliveries_due, deliveries_prune

    enqueued = 0
    for organisation_id in organisation_ids():
        with task_org(organisation_id) as org:
            if org is None:
                continue
            ids = deliveries_due(org=org, older_than=datetime.timedelta(minutes=2))
            deliveries_prune(org=org, older_than=datetime.timedelta(days=settings.WEBHOOK_LOG_DAYS))
        enqueue(organisation_id, ids)
        enqueued += len(ids)
    return enqueued
