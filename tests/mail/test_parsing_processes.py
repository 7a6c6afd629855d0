"""A sync with a backlog parses in processes of its own: in a real Celery worker too, and
without losing anything when one of them dies."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid

import pytest

from conversations.models import Message
from mail import parsers
from mail.models import Mailbox
from mail.services import prepare_email
from mail.sync import mailbox_sync
from tests.mail.test_sync import assert_each_message_stored_once, loaded_mailbox, running
from tests.mail.workers import worker_env
from threadline.celery import app

THE_TEST_PROCESS = os.getpid()


def test_a_real_celery_prefork_worker_syncs_a_backlog_in_parsing_processes(
    dovecot, transactional_db, a
):
    mailbox = loaded_mailbox(dovecot, a, 120)
    queue = f"test-{uuid.uuid4().hex}"  # this worker takes only this test's task
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "threadline", "worker", "--pool", "prefork",
         "--concurrency", "1", "--queues", queue, "--loglevel", "INFO", "--without-gossip",
         "--without-mingle", "--without-heartbeat"],
        env=worker_env(MAIL_SYNC_BATCH="20", MAIL_PARSE_PROCESSES="2"),
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        app.send_task("mail.tasks.sync_mailbox", args=[a.org.pk, mailbox.pk], queue=queue)
        deadline = time.monotonic() + 120
        while Mailbox.all_orgs.get(pk=mailbox.pk).last_success_at is None:
            assert worker.poll() is None, "the worker stopped"
            assert time.monotonic() < deadline, "the sync never finished"
            time.sleep(0.2)
    finally:
        worker.terminate()  # a warm shutdown: it finishes what it is doing first
        _, log = worker.communicate(timeout=60)
    assert "parsing in 2 processes beside the sync" in log, log
    assert "cannot start processes" not in log and "died" not in log, log
    assert_each_message_stored_once(a, mailbox, 120)


def _dies_in_a_parsing_process(item):  # type: ignore[no-untyped-def]
    if os.getpid() != THE_TEST_PROCESS and b"Body 30\r\n" in item.raw:
        os._exit(1)  # as if the kernel killed it for the memory a monstrous email took
    return prepare_email(item)


def test_when_a_parsing_process_dies_the_sync_parses_the_rest_itself_and_loses_nothing(
    dovecot, a, monkeypatch, settings, caplog
):
    settings.MAIL_SYNC_BATCH, settings.MAIL_PARSE_PROCESSES = 20, 2
    monkeypatch.setattr(parsers, "prepare_email", _dies_in_a_parsing_process)
    mailbox = loaded_mailbox(dovecot, a, 60)

    report = mailbox_sync(org=a.org, mailbox_id=mailbox.pk)

    assert (report.outcome, report.created, report.quarantined) == ("synced", 60, 0)
    assert "a parsing process died" in caplog.text
    assert Message.all_orgs.filter(organisation=a.org, body_text="Body 30").exists()
    assert_each_message_stored_once(a, mailbox, 60)


def test_parsing_processes_end_with_their_sync(dovecot, a, settings):
    settings.MAIL_SYNC_BATCH, settings.MAIL_PARSE_PROCESSES = 20, 2
    started: list[int] = []
    real = parsers.Parsers.prepare

    def noting_pids(self, items):  # type: ignore[no-untyped-def]
        started.extend(pid for pid in self.pids if pid not in started)
        return real(self, items)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(parsers.Parsers, "prepare", noting_pids)
        mailbox = loaded_mailbox(dovecot, a, 45)
        assert mailbox_sync(org=a.org, mailbox_id=mailbox.pk).created == 45
    assert len(started) == 2
    assert not any(map(running, started)), "no parsing process is left behind"


def test_a_sync_of_a_few_new_messages_starts_no_processes(dovecot, a, settings, monkeypatch):
    settings.MAIL_SYNC_BATCH, settings.MAIL_PARSE_PROCESSES = 20, 2
    mailbox = loaded_mailbox(dovecot, a, 5)
    monkeypatch.setattr(parsers, "ProcessPoolExecutor", None)  # any use would fail
    assert mailbox_sync(org=a.org, mailbox_id=mailbox.pk).created == 5
