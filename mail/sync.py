"""Pull a mailbox's new mail into the record, exactly once, whatever stops it half way.

Per folder the cursor is (UIDVALIDITY, highest UID stored). Each batch of messages and the
cursor move commit in one transaction, after checking this sync still holds the mailbox's
lease: a worker killed at any point leaves the last committed batch, a stale worker's batch
rolls back, and the next sync carries on from the cursor. A new UIDVALIDITY starts the folder
again; Message-ID deduplication keeps that from storing anything twice.
"""

from __future__ import annotations

import queue
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from mail.imap import ImapSession, MailboxError, imap_session
from mail.models import Mailbox, MailboxFolder
from mail.parsers import Parsers, parsing_processes
from mail.secrets import decrypt_secret
from mail.services import IncomingEmail, OrgDirectory, PreparedEmail, emails_ingest
from organisations.models import Organisation

LEASE = timedelta(minutes=5)


class LeaseLost(Exception):
    """Another sync took the mailbox over (this one was too slow): stop without writing."""


@dataclass
class SyncReport:
    outcome: str  # "synced", "busy", "failed", "missing" (deleted, paused or not this org's)
    created: int = 0
    duplicates: int = 0
    unsorted: int = 0
    quarantined: int = 0
    error: str = ""
    folders: dict[str, int] = field(default_factory=dict)


def claim_lease(*, org: Organisation, mailbox_id: int) -> uuid.UUID | None:
    """Conditional UPDATE: only one sync holds a mailbox at a time; an expired lease is free."""
    token = uuid.uuid4()
    now = timezone.now()
    claimed = (
        Mailbox.objects.for_org(org)
        .filter(pk=mailbox_id, is_active=True)
        .filter(Q(lease_token__isnull=True) | Q(lease_expires_at__lt=now))
        .update(lease_token=token, lease_expires_at=now + LEASE, last_attempt_at=now)
    )
    return token if claimed else None


def release_lease(
    *, org: Organisation, mailbox_id: int, token: uuid.UUID, **updates: object
) -> None:
    Mailbox.objects.for_org(org).filter(pk=mailbox_id, lease_token=token).update(
        lease_token=None, lease_expires_at=None, **updates
    )


def mailbox_sync(*, org: Organisation, mailbox_id: int) -> SyncReport:
    token = claim_lease(org=org, mailbox_id=mailbox_id)
    if token is None:
        exists = Mailbox.objects.for_org(org).filter(pk=mailbox_id, is_active=True).exists()
        return SyncReport("busy" if exists else "missing")
    mailbox = Mailbox.objects.for_org(org).get(pk=mailbox_id)
    report = SyncReport("synced")
    try:
        with imap_session(
            host=mailbox.host,
            port=mailbox.port,
            security=mailbox.security,
            username=mailbox.username,
            password=decrypt_secret(mailbox.secret),
        ) as session:
            directory = OrgDirectory.load(org, extra={mailbox.email_address.lower(): mailbox.owner})
            for folder in _folders(org, mailbox, session):
                _sync_folder(org, mailbox, folder, session, token, directory, report)
    except LeaseLost:
        return SyncReport("busy", error="another sync took over this mailbox")
    except (MailboxError, ValueError) as error:
        report.outcome, report.error = "failed", str(error)
        release_lease(org=org, mailbox_id=mailbox.pk, token=token, last_error=str(error))
        return report
    except Exception as error:
        release_lease(
            org=org, mailbox_id=mailbox.pk, token=token, last_error=f"unexpected: {error}"
        )
        raise
    release_lease(
        org=org,
        mailbox_id=mailbox.pk,
        token=token,
        last_error="",
        last_success_at=timezone.now(),
    )
    return report


def _folders(org: Organisation, mailbox: Mailbox, session: ImapSession) -> list[MailboxFolder]:
    wanted = [("INBOX", MailboxFolder.Role.INBOX)]
    sent = session.sent_folder()
    if sent:
        wanted.append((sent, MailboxFolder.Role.SENT))
    wanted += [(name, MailboxFolder.Role.OTHER) for name in mailbox.extra_folders]
    folders = []
    for name, role in wanted:
        folder, _ = MailboxFolder.objects.for_org(org).get_or_create(
            mailbox=mailbox, name=name, defaults={"role": role}
        )
        folders.append(folder)
    return folders


def _sync_folder(
    org: Organisation,
    mailbox: Mailbox,
    folder: MailboxFolder,
    session: ImapSession,
    token: uuid.UUID,
    directory: OrgDirectory,
    report: SyncReport,
) -> None:
    uidvalidity = session.select(folder.name)
    if folder.uidvalidity != uidvalidity:
        # First sync, or the server renumbered the folder: start it again within the history
        # window. Messages already stored are recognised by Message-ID, not stored twice.
        since = (timezone.now() - timedelta(days=mailbox.history_days)).date()
        uids = session.uids_since(since)
        last_uid = 0
    else:
        last_uid = folder.last_uid
        uids = session.uids_after(last_uid)
    if not uids:
        _advance(org, mailbox, folder, token, uidvalidity, last_uid)
        return
    size = settings.MAIL_SYNC_BATCH
    batches = [uids[n : n + size] for n in range(0, len(uids), size)]
    # Starting processes costs more than it saves on the usual sync of a few new messages.
    processes = settings.MAIL_PARSE_PROCESSES if len(batches) > 1 else 0
    with parsing_processes(processes) as parsers:
        _sync_batches(org, mailbox, folder, token, directory, report, uidvalidity,
                      _Reader(session, folder.name, batches, parsers))  # fmt: skip


def _sync_batches(
    org: Organisation,
    mailbox: Mailbox,
    folder: MailboxFolder,
    token: uuid.UUID,
    directory: OrgDirectory,
    report: SyncReport,
    uidvalidity: int,
    reader: _Reader,
) -> None:
    try:
        for batch, items in reader:
            with transaction.atomic():
                _commit_without_waiting_for_disk()
                results = emails_ingest(org=org, items=items, directory=directory, mailbox=mailbox)
                created = sum(result.outcome == "created" for result in results)
                _advance(org, mailbox, folder, token, uidvalidity, batch[-1], created)
            for result in results:
                counter = _COUNTERS[result.outcome]
                setattr(report, counter, getattr(report, counter) + 1)
            report.folders[folder.name] = report.folders.get(folder.name, 0) + len(batch)
    finally:
        reader.close()


def _commit_without_waiting_for_disk() -> None:
    """This transaction's commit does not wait for its WAL to reach the disk.

    Only a crash of the database server itself can then lose it (the last fraction of a second
    of commits), and it is lost whole: the batch together with its cursor, so the next sync
    fetches the same UIDs again and stores them once. What the server confirmed stays on it.
    The wait was about a tenth of a sync's time."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit = off")


class _Reader:
    """Fetches and prepares a folder's batches in a thread of its own, a batch ahead.

    While the syncing thread waits for PostgreSQL to write one batch, this one parses the
    next (in parsing processes when the sync has them); while it waits for the IMAP
    server, the other works (both waits release the GIL). Only this thread uses the IMAP session
    until `close()` returns.
    """

    AHEAD = 1  # batches fetched and prepared, waiting to be written

    def __init__(
        self,
        session: ImapSession,
        folder: str,
        batches: list[list[int]],
        parsers: Parsers,
    ) -> None:
        self.queue: queue.Queue[tuple[list[int], list[PreparedEmail]] | BaseException | None]
        self.queue = queue.Queue(maxsize=self.AHEAD)
        self.stopped = threading.Event()
        self.thread = threading.Thread(
            target=self._run,
            args=(session, folder, batches, parsers),
            name="mail-reader",
            daemon=True,
        )
        self.thread.start()

    def _run(
        self,
        session: ImapSession,
        folder: str,
        batches: list[list[int]],
        parsers: Parsers,
    ) -> None:
        try:
            for batch in batches:
                items = [
                    IncomingEmail(item.raw, f"{folder} UID {item.uid}", item.received_at)
                    for item in session.fetch(batch)
                ]
                prepared = parsers.prepare(items)
                if not self._put((batch, prepared)):
                    return
        except BaseException as error:  # the syncing thread raises it
            self._put(error)
            return
        self._put(None)

    def _put(self, item: tuple[list[int], list[PreparedEmail]] | BaseException | None) -> bool:
        while not self.stopped.is_set():
            try:
                self.queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def __iter__(self) -> Iterator[tuple[list[int], list[PreparedEmail]]]:
        while (item := self.queue.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item

    def close(self) -> None:
        self.stopped.set()
        self.thread.join()


_COUNTERS = {
    "created": "created",
    "duplicate": "duplicates",
    "unsorted": "unsorted",
    "quarantined": "quarantined",
}


def _advance(
    org: Organisation,
    mailbox: Mailbox,
    folder: MailboxFolder,
    token: uuid.UUID,
    uidvalidity: int,
    last_uid: int,
    created: int = 0,
) -> None:
    """Move the cursor, in the batch's transaction, only while this sync holds the lease.

    The count of messages imported moves with it, so a sync that dies or loses its lease later
    still counts what it committed."""
    now = timezone.now()
    still_ours = (
        Mailbox.objects.for_org(org)
        .filter(pk=mailbox.pk, lease_token=token)
        .update(lease_expires_at=now + LEASE, messages_imported=F("messages_imported") + created)
    )
    if not still_ours:
        raise LeaseLost
    MailboxFolder.objects.for_org(org).filter(pk=folder.pk).update(
        uidvalidity=uidvalidity, last_uid=last_uid, last_synced_at=now
    )
    folder.uidvalidity, folder.last_uid = uidvalidity, last_uid
