import time_machine

from followups.models import FollowUp
from followups.tasks import scan_all_followups, scan_followups, send_digests
from tests.followups.conftest import at


def test_the_scan_task_works_in_its_own_organisation_and_is_idempotent(thread, b):
    with time_machine.travel(at(16, 10), tick=False):
        thread.they("Could you send the renewal quote?", at(16, 10))
    b_items = list(FollowUp.all_orgs.filter(organisation=b.org).values_list("pk", "resolved_at"))
    with time_machine.travel(at(18, 10), tick=False):
        first = scan_followups(thread.cast.org.pk)
        again = scan_followups(thread.cast.org.pk)
    assert first >= 1 and again == 0
    assert (
        list(FollowUp.all_orgs.filter(organisation=b.org).values_list("pk", "resolved_at"))
        == b_items
    )


def test_tasks_for_an_organisation_that_has_gone_do_nothing(db):
    assert scan_followups(999_999) == 0
    assert send_digests(999_999) == 0


def test_the_beat_fan_out_scans_every_organisation(a, b, settings):
    from threadline.celery import app

    app.conf.task_always_eager = True
    try:
        assert scan_all_followups() == 2
    finally:
        app.conf.task_always_eager = False
    # Both casts' hand-made items described no real waiting: each scan resolved its own.
    assert not FollowUp.all_orgs.filter(resolved_at=None).exists()


def test_the_digest_task_sends_through_the_mailer(thread, smtp_server):
    with time_machine.travel(at(23, 9, 5), tick=False):
        assert send_digests(thread.cast.org.pk) == 1
    assert len(smtp_server.received) == 1
