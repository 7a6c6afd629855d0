from datetime import timedelta

import pytest
from django.utils import timezone

from mail.models import Mailbox
from mail.tasks import sync_due_mailboxes, sync_mailbox
from threadline.celery import app


@pytest.fixture
def eager():
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def test_beat_enqueues_each_mailbox_not_synced_within_the_interval(eager, a, b):
    Mailbox.all_orgs.filter(pk=b.mailbox.pk).update(last_attempt_at=timezone.now())
    assert sync_due_mailboxes() == 1, "B's mailbox was tried a moment ago"
    a.mailbox.refresh_from_db()
    assert a.mailbox.last_attempt_at is not None
    assert "cannot reach 127.0.0.1:1" in a.mailbox.last_error


def test_beat_skips_a_mailbox_whose_sync_is_still_running(eager, a, b):
    soon = timezone.now() + timedelta(minutes=3)
    Mailbox.all_orgs.update(
        lease_token="00000000-0000-0000-0000-000000000001", lease_expires_at=soon
    )
    assert sync_due_mailboxes() == 0


def test_the_sync_task_for_one_organisation_never_reaches_anothers_mailbox(a, b):
    assert sync_mailbox(a.org.pk, b.mailbox.pk) == {"outcome": "missing", "created": 0, "error": ""}
    b.mailbox.refresh_from_db()
    assert b.mailbox.last_attempt_at is None
