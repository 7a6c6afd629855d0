import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "threadline.settings")

app = Celery("threadline")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# The whole beat schedule, in one place.
app.conf.beat_schedule = {
    "sync-due-mailboxes": {
        "task": "mail.tasks.sync_due_mailboxes",
        "schedule": 60.0,
    },
    "sweep-outbound-emails": {
        "task": "mail.tasks.sweep_outbound_emails",
        "schedule": 300.0,
    },
    "scan-followups": {
        "task": "followups.tasks.scan_all_followups",
        "schedule": 300.0,
    },
    "send-digests": {
        "task": "followups.tasks.send_all_digests",
        "schedule": 600.0,
    },
    "index-missing-messages": {
        "task": "search.tasks.index_all_missing_messages",
        "schedule": 600.0,
    },
    "refresh-account-activity": {
        "task": "accounts.tasks.refresh_all_account_activity",
        "schedule": crontab(minute=17),
    },
    "sweep-webhook-deliveries": {
        "task": "webhooks.tasks.webhook_sweep",
        "schedule": 300.0,
    },
    "refresh-health": {
        "task": "health.tasks.refresh_all_health",
        "schedule": crontab(hour=2, minute=30),
    },
}
