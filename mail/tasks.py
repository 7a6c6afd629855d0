from datetime import timedelta
from typing import Any

from celery import shared_task
from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from mail.models import Mailbox
from mail.sync import mailbox_sync
from organisations.tasks import organisation_ids, task_org

TASK_OPTIONS: dict[str, Any] = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "soft_time_limit": 600,
    "time_limit": 660,
}


@shared_task(**TASK_OPTIONS)
def sync_mailbox(organisation_id: int, mailbox_id: int) -> dict[str, Any]:
    """Sync one mailbox. Safe to run twice at once: the second finds the lease taken."""
    with task_org(organisation_id) as org:
        if org is None:
            return {"outcome": "gone"}
        report = mailbox_sync(org=org, mailbox_id=mailbox_id)
        return {"outcome": report.outcome, "created": report.created, "error": report.error}


@shared_task(**TASK_OPTIONS)
def sync_due_mailboxes() -> int:
    """Every minute (beat): enqueue each active mailbox not synced within the interval."""
    due_before = timezone.now() - timedelta(seconds=settings.MAIL_SYNC_INTERVAL_SECONDS)
    enqueued = 0
    for organisation_id in organisation_ids():
        with task_org(organisation_id) as org:
            if org is None:
                continue
            due = (
                Mailbox.objects.for_org(org)
                .filter(is_active=True)
                .filter(Q(last_attempt_at__isnull=True) | Q(last_attempt_at__lt=due_before))
                .filter(Q(lease_token__isnull=True) | Q(lease_expires_at__lt=timezone.now()))
                .values_list("pk", flat=True)
            )
            for mailbox_id in due:
                sync_mailbox.delay(organisation_id, mailbox_id)
                enqueued += 1
    return enqueued


@shared_task(**TASK_OPTIONS)
def send_outbound_email(organisation_id: int, outbound_id: int) -> dict[str, Any]:
    """Send one email written in Threadline. Safe to run twice: only one run claims it."""
    from mail.services import outbound_deliver

    with task_org(organisation_id) as org:
        if org is None:
            return {"outcome": "gone"}
        report = outbound_deliver(org=org, outbound_id=outbound_id)
        return {"outcome": report.outcome, "reason": report.reason, "sent_copy": report.sent_copy}


@shared_task(**TASK_OPTIONS)
def sweep_outbound_emails() -> dict[str, int]:
    """Every five minutes (beat): fail emails a dead worker left half sent, and send again
    those whose task was lost."""
    from mail.services import outbound_sweep

    failed = requeued = 0
    for organisation_id in organisation_ids():
        with task_org(organisation_id) as org:
            if org is None:
                continue
            sweep = outbound_sweep(org=org)
            failed, requeued = failed + sweep.failed, requeued + sweep.requeued
    return {"failed": failed, "requeued": requeued}
