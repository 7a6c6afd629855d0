"""IMAP sync against a real Dovecot: once, in order, from INBOX and Sent, whatever happens."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from conversations.models import Message
from mail.models import Mailbox, MailboxFolder, UnsortedEmail
from mail.secrets import encrypt_secret
from mail.services import unsorted_file
from mail.sync import LeaseLost, _advance, claim_lease, mailbox_sync
from tests.mail.conftest import PASSWORD
from tests.mail.workers import finish, go, said, start_worker, worker_env


def eml(n: int, *, sender: str, to: str, subject: str = "Rollout", extra: str = "") -> bytes:
    headers = (
        f"From: {sender}\nTo: {to}\nSubject: {subject} {n}\nMessage-ID: <sync-{n}-{sender}>\n"
        f"Date: Mon, 16 Nov 2026 10:{n % 60:02d}:00 +0000\n{extra}"
    )
    return (headers + "\nBody " + str(n) + "\n").replace("\n", "\r\n").encode()


@pytest.fixture
def mailbox_of(dovecot, a):
    def make(owner=None, username=None, **fields):
        owner = owner or a.sales
        username = username or dovecot.new_user()
        settings = {"host": dovecot.host, "port": dovecot.port, "security": "none"} | fields
        return Mailbox.all_orgs.create(
            organisation=a.org, owner=owner, email_address=f"{username}@imap.test", username=username,
            secret=encrypt_secret(PASSWORD), **settings,
        )  # fmt: skip

    return make


def customer(a) -> str:
    return a.contact.addresses.get().value


def test_first_sync_imports_the_history_window_and_later_syncs_only_new_mail(
    dovecot, a, mailbox_of
):
    mailbox = mailbox_of(history_days=90)
    old = timezone.now() - timedelta(days=200)
    dovecot.append(
        mailbox.username, "INBOX", eml(1, sender=customer(a), to=a.sales.email), when=old
    )
    for n in (2, 3):
        dovecot.append(mailbox.username, "INBOX", eml(n, sender=customer(a), to=a.sales.email))

    first = mailbox_sync(org=a.org, mailbox_id=mailbox.pk)
    assert (first.outcome, first.created) == ("synced", 2)
    subjects = set(
        Message.objects.for_org(a.org).filter(kind="email").values_list("subject", flat=True)
    )
    assert subjects == {"Rollout 2", "Rollout 3"}, "the 200-day-old message is outside the window"

    dovecot.append(mailbox.username, "INBOX", eml(4, sender=customer(a), to=a.sales.email))
    second = mailbox_sync(org=a.org, mailbox_id=mailbox.pk)
    assert (second.created, second.duplicates) == (1, 0), "only the new message is fetched"
    assert mailbox_sync(org=a.org, mailbox_id=mailbox.pk).created == 0
    mailbox.refresh_from_db()
    assert mailbox.messages_imported == 3 and mailbox.last_error == ""
    assert mailbox.last_success_at is not None and mailbox.lease_token is None
    inbox = MailboxFolder.objects.for_org(a.org).get(mailbox=mailbox, name="INBOX")
    assert inbox.last_uid == 4


def test_mail_sent_from_any_client_comes_in_from_the_sent_folder(dovecot, a, mailbox_of):
    mailbox = mailbox_of()
    dovecot.append(mailbox.username, "Sent", eml(1, sender=a.sales.email, to=customer(a)))
    report = mailbox_sync(org=a.org, mailbox_id=mailbox.pk)
    assert report.folders == {"Sent": 1}
    message = Message.objects.for_org(a.org).get(subject="Rollout 1")
    assert (message.direction, message.sender_member, message.account) == (
        "outbound",
        a.sales,
        a.account,
    )
    roles = set(
        MailboxFolder.objects.for_org(a.org).filter(mailbox=mailbox).values_list("role", flat=True)
    )
    assert roles == {"inbox", "sent"}


def test_the_same_message_in_two_colleagues_mailboxes_is_one_message(dovecot, a, mailbox_of):
    alice, bob = mailbox_of(owner=a.sales), mailbox_of(owner=a.admin)
    raw = eml(1, sender=customer(a), to=f"{a.sales.email}, {a.admin.email}")
    dovecot.append(alice.username, "INBOX", raw)
    dovecot.append(bob.username, "INBOX", raw)
    assert mailbox_sync(org=a.org, mailbox_id=alice.pk).created == 1
    report = mailbox_sync(org=a.org, mailbox_id=bob.pk)
    assert (report.created, report.duplicates) == (0, 1)
    assert Message.objects.for_org(a.org).filter(subject="Rollout 1").count() == 1


def test_mail_without_a_date_header_is_dated_when_the_server_received_it(dovecot, a, mailbox_of):
    mailbox = mailbox_of()
    received = (timezone.now() - timedelta(days=10)).replace(microsecond=0)
    undated = (
        f"From: {customer(a)}\r\nTo: {a.sales.email}\r\nSubject: No date\r\n"
        "Message-ID: <undated@x>\r\n\r\nWhen was this sent?\r\n"
    ).encode()
    dovecot.append(mailbox.username, "INBOX", undated, when=received)
    stranger = undated.replace(customer(a).encode(), b"who@unknown.example").replace(
        b"<undated@x>", b"<undated-stranger@x>"
    )
    dovecot.append(mailbox.username, "INBOX", stranger, when=received)
    dated = eml(1, sender=customer(a), to=a.sales.email)  # Date: 16 Nov 2026 10:01 UTC
    dovecot.append(mailbox.username, "INBOX", dated, when=received)
    mailbox_sync(org=a.org, mailbox_id=mailbox.pk)
    message = Message.objects.for_org(a.org).get(message_id="<undated@x>")
    assert message.occurred_at == received
    message.conversation.refresh_from_db()
    assert message.conversation.last_inbound_at == received
    dated_message = Message.objects.for_org(a.org).get(subject="Rollout 1")
    assert dated_message.occurred_at.isoformat() == "2026-11-16T10:01:00+00:00", "Date wins"
    # Unsorted mail keeps that date, also once a member files it.
    waiting = UnsortedEmail.objects.for_org(a.org).get(message_id="<undated-stranger@x>")
    assert waiting.occurred_at == received
    filed = unsorted_file(org=a.org, unsorted=waiting, account=a.account, by=a.sales)
    assert filed.occurred_at == received


def test_a_new_uidvalidity_resyncs_the_folder_without_duplicates(dovecot, a, mailbox_of):
    mailbox = mailbox_of()
    for n in (1, 2):
        dovecot.append(mailbox.username, "INBOX", eml(n, sender=customer(a), to=a.sales.email))
    mailbox_sync(org=a.org, mailbox_id=mailbox.pk)
    dovecot.set_uidvalidity(mailbox.username, "INBOX", 4242)
    dovecot.append(mailbox.username, "INBOX", eml(3, sender=customer(a), to=a.sales.email))
    report = mailbox_sync(org=a.org, mailbox_id=mailbox.pk)
    assert (report.created, report.duplicates) == (1, 2)
    inbox = MailboxFolder.objects.for_org(a.org).get(mailbox=mailbox, name="INBOX")
    assert inbox.uidvalidity == 4242
    assert Message.objects.for_org(a.org).filter(kind="email").count() == 3


def test_a_second_sync_of_the_same_mailbox_waits_its_turn(dovecot, a, mailbox_of):
    mailbox = mailbox_of()
    dovecot.append(mailbox.username, "INBOX", eml(1, sender=customer(a), to=a.sales.email))
    assert claim_lease(org=a.org, mailbox_id=mailbox.pk) is not None  # a sync in progress
    assert mailbox_sync(org=a.org, mailbox_id=mailbox.pk).outcome == "busy"
    assert not Message.objects.for_org(a.org).filter(kind="email").exists()
    Mailbox.all_orgs.filter(pk=mailbox.pk).update(lease_expires_at=timezone.now() - timedelta(1))
    assert mailbox_sync(org=a.org, mailbox_id=mailbox.pk).created == 1, "an expired lease is free"


def test_a_sync_that_lost_its_lease_cannot_move_the_cursor(a, mailbox_of):
    mailbox = mailbox_of()
    stale = claim_lease(org=a.org, mailbox_id=mailbox.pk)
    assert stale is not None
    Mailbox.all_orgs.filter(pk=mailbox.pk).update(lease_expires_at=timezone.now() - timedelta(1))
    assert claim_lease(org=a.org, mailbox_id=mailbox.pk) is not None  # another worker took over
    folder = MailboxFolder.all_orgs.create(
        organisation=a.org, mailbox=mailbox, name="INBOX", role="inbox"
    )
    with pytest.raises(LeaseLost):
        _advance(a.org, mailbox, folder, stale, 1, 99)
    folder.refresh_from_db()
    assert folder.last_uid == 0


def test_a_wrong_password_is_reported_on_the_mailbox(dovecot, a, mailbox_of):
    mailbox = mailbox_of()
    Mailbox.all_orgs.filter(pk=mailbox.pk).update(secret=encrypt_secret("not-the-password"))
    report = mailbox_sync(org=a.org, mailbox_id=mailbox.pk)
    assert report.outcome == "failed"
    assert "refused the username or password" in report.error
    mailbox.refresh_from_db()
    assert "refused the username or password" in mailbox.last_error
    assert mailbox.lease_token is None, "a failed sync lets the next one try"


def test_an_unreachable_host_is_reported_on_the_mailbox(a, mailbox_of):
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    mailbox = mailbox_of(port=closed_port)
    report = mailbox_sync(org=a.org, mailbox_id=mailbox.pk)
    assert report.outcome == "failed" and f"cannot reach 127.0.0.1:{closed_port}" in report.error


def running(pid: int) -> bool:
    """Whether the process exists and is not a zombie waiting to be reaped."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] not in "ZX"
    except OSError:
        return False


def test_a_worker_killed_mid_sync_resumes_without_loss_or_duplicates(dovecot, transactional_db, a):
    import signal
    import subprocess
    import sys

    mailbox = Mailbox.all_orgs.create(
        organisation=a.org, owner=a.sales, email_address="killed@imap.test", host=dovecot.host,
        port=dovecot.port, security="none", username=dovecot.new_user(),
        secret=encrypt_secret(PASSWORD),
    )  # fmt: skip
    imap = dovecot.connect(mailbox.username)
    for n in range(300):
        imap.append("INBOX", None, None, eml(n, sender=customer(a), to=a.sales.email))
    imap.logout()

    env = worker_env(MAIL_SYNC_BATCH="20", MAIL_PARSE_PROCESSES="2")
    worker = subprocess.Popen(
        [sys.executable, "-c", (
            "import django, json, multiprocessing, os; django.setup()\n"
            "import mail.sync\n"
            "advance, calls = mail.sync._advance, []\n"
            # Die inside the third batch's transaction, after its messages were written.
            "def dying_advance(*args):\n"
            "    calls.append(1)\n"
            "    if len(calls) == 3:\n"
            "        children = [p.pid for p in multiprocessing.active_children()]\n"
            "        print(json.dumps(children), flush=True)\n"
            "        os.kill(os.getpid(), 9)\n"
            "    return advance(*args)\n"
            "mail.sync._advance = dying_advance\n"
            "from organisations.models import Organisation\n"
            "from organisations.tenancy import org_context\n"
            "from mail.sync import mailbox_sync\n"
            f"org = Organisation.objects.get(pk={a.org.pk})\n"
            f"with org_context(org): mailbox_sync(org=org, mailbox_id={mailbox.pk})\n"
        )],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    out, err = worker.communicate(timeout=120)
    assert worker.returncode == -signal.SIGKILL, err.decode()
    parsers = json.loads(out.decode().strip().splitlines()[-1])
    assert len(parsers) == 2, "the sync parsed in processes of its own"
    deadline = time.monotonic() + 10
    while any(map(running, parsers)):
        assert time.monotonic() < deadline, "parsing processes outlived their killed worker"
        time.sleep(0.05)

    stored_before_resume = Message.all_orgs.filter(kind="email").count()
    folder = MailboxFolder.all_orgs.get(mailbox=mailbox, name="INBOX")
    assert folder.last_uid == stored_before_resume == 40, (
        "two batches of 20 committed, not the third"
    )
    # The dead worker's lease runs out; the next sync carries on from the cursor.
    Mailbox.all_orgs.filter(pk=mailbox.pk).update(lease_expires_at=timezone.now() - timedelta(1))
    report = mailbox_sync(org=a.org, mailbox_id=mailbox.pk)
    assert report.created == 300 - stored_before_resume and report.duplicates == 0
    emails = Message.all_orgs.filter(kind="email")
    assert emails.count() == 300
    assert emails.values("message_id").distinct().count() == 300


def loaded_mailbox(dovecot, a, count: int) -> Mailbox:  # type: ignore[no-untyped-def]
    mailbox = Mailbox.all_orgs.create(
        organisation=a.org, owner=a.sales, email_address=f"race{count}@imap.test",
        host=dovecot.host, port=dovecot.port, security="none", username=dovecot.new_user(),
        secret=encrypt_secret(PASSWORD),
    )  # fmt: skip
    imap = dovecot.connect(mailbox.username)
    for n in range(count):
        imap.append("INBOX", None, None, eml(n, sender=customer(a), to=a.sales.email))
    imap.logout()
    return mailbox


def assert_each_message_stored_once(a, mailbox: Mailbox, count: int) -> None:  # type: ignore[no-untyped-def]
    emails = Message.all_orgs.filter(organisation=a.org, kind="email")
    assert emails.count() == count, "nothing lost, nothing doubled"
    assert emails.values("message_id").distinct().count() == count
    inbox = MailboxFolder.all_orgs.get(mailbox=mailbox, name="INBOX")
    assert inbox.last_uid == count, "the cursor is at the last message"
    mailbox.refresh_from_db()
    assert mailbox.last_error == "" and mailbox.lease_token is None
    assert mailbox.messages_imported == count
    assert not mailbox.quarantine.exists()


def test_two_workers_syncing_one_mailbox_at_the_same_moment_store_each_message_once(
    dovecot, transactional_db, a
):
    mailbox = loaded_mailbox(dovecot, a, 300)
    task = f"from mail.tasks import sync_mailbox\nprint(json.dumps(sync_mailbox({a.org.pk}, {mailbox.pk})))\n"
    workers = [start_worker(task, MAIL_SYNC_BATCH="50") for _ in range(2)]
    for worker in workers:  # both are set up and waiting: let them go together
        go(worker)
    reports = sorted((finish(worker) for worker in workers), key=lambda r: r["outcome"])
    assert {r["outcome"] for r in reports} <= {"synced", "busy"}
    assert sum(r["created"] for r in reports) == 300
    assert all(r["error"] == "" for r in reports)
    # The lease lets one in; the other either found it taken or came after and found nothing new.
    assert [r["outcome"] for r in reports] == ["busy", "synced"] or [
        r["created"] for r in reports
    ] in ([0, 300], [300, 0])
    assert_each_message_stored_once(a, mailbox, 300)


def test_a_worker_whose_lease_was_taken_over_mid_batch_writes_nothing_and_the_new_one_finishes(
    dovecot, transactional_db, a
):
    mailbox = loaded_mailbox(dovecot, a, 200)
    # The stale worker stops inside its third batch's transaction, its messages written but not
    # committed, until told to go on: as if it hung for longer than its lease.
    stale = start_worker(
        "import mail.sync\n"
        "advance, calls = mail.sync._advance, []\n"
        "def slow_advance(*args):\n"
        "    calls.append(1)\n"
        "    if len(calls) == 3:\n"
        "        print('paused', flush=True); sys.stdin.readline()\n"
        "    return advance(*args)\n"
        "mail.sync._advance = slow_advance\n"
        "from mail.tasks import sync_mailbox\n"
        f"print(json.dumps(sync_mailbox({a.org.pk}, {mailbox.pk})))\n",
        MAIL_SYNC_BATCH="20",
    )
    go(stale)
    assert said(stale) == "paused"
    old_token = Mailbox.all_orgs.get(pk=mailbox.pk).lease_token
    Mailbox.all_orgs.filter(pk=mailbox.pk).update(lease_expires_at=timezone.now() - timedelta(1))
    successor = start_worker(
        f"from mail.tasks import sync_mailbox\nprint(json.dumps(sync_mailbox({a.org.pk}, {mailbox.pk})))\n",
        MAIL_SYNC_BATCH="20",
    )
    go(successor)
    deadline = time.monotonic() + 60
    while Mailbox.all_orgs.get(pk=mailbox.pk).lease_token == old_token:
        assert time.monotonic() < deadline, "the successor never took the lease"
        time.sleep(0.05)
    go(stale)  # it wakes up and tries to commit its batch
    stale_report, successor_report = finish(stale), finish(successor)
    assert stale_report["outcome"] == "busy" and stale_report["created"] == 0
    assert successor_report == {"outcome": "synced", "created": 160, "error": ""}
    assert_each_message_stored_once(a, mailbox, 200)
