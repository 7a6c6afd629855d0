"""A small IMAP client over imaplib, with errors people can act on."""

from __future__ import annotations

import imaplib
import re
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from typing import NamedTuple

TIMEOUT_SECONDS = 30
_LIST_LINE = re.compile(rb'^\((?P<flags>[^)]*)\)\s+(?P<delim>"[^"]*"|NIL)\s+(?P<name>.+)$')
_UID = re.compile(rb"UID (\d+)")
_INTERNALDATE = re.compile(
    rb'INTERNALDATE "\s?(\d{1,2})-([A-Za-z]{3})-(\d{4}) (\d\d):(\d\d):(\d\d) ([-+]\d{4})"'
)
SENT_FALLBACK_NAMES = ("Sent", "Sent Items", "Sent Messages", "INBOX.Sent", "[Gmail]/Sent Mail")


class MailboxError(Exception):
    """Connecting or reading failed; the message says what to fix."""


@dataclass(frozen=True)
class Folder:
    name: str
    flags: frozenset[str]


def _quote(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


class ImapSession:
    def __init__(self, connection: imaplib.IMAP4) -> None:
        self.connection = connection

    def folders(self) -> list[Folder]:
        status, lines = self.connection.list()
        if status != "OK":
            raise MailboxError("the server would not list its folders")
        found = []
        for line in lines:
            if not isinstance(line, bytes):
                continue
            match = _LIST_LINE.match(line)
            if match:
                name = match.group("name").decode("utf-8", "replace").strip()
                if name.startswith('"') and name.endswith('"'):
                    name = name[1:-1].replace('\\"', '"').replace("\\\\", "\\")
                flags = frozenset(match.group("flags").decode().split())
                found.append(Folder(name=name, flags=flags))
        return found

    def sent_folder(self) -> str | None:
        folders = self.folders()
        for folder in folders:
            if "\\Sent" in folder.flags:
                return folder.name
        names = {f.name.lower(): f.name for f in folders}
        return next((names[n.lower()] for n in SENT_FALLBACK_NAMES if n.lower() in names), None)

    def append(self, folder: str, raw: bytes, *, flags: str = "(\\Seen)") -> None:
        """Put a message into a folder (our copy of mail sent from Threadline)."""
        status, data = self.connection.append(_quote(folder), flags, None, raw)  # type: ignore[arg-type]
        if status != "OK":
            detail = (data[0] or b"").decode("utf-8", "replace") if data else ""
            raise MailboxError(f"the server would not store the copy in “{folder}”: {detail}")

    def select(self, name: str) -> int:
        """Open a folder read-only and return its UIDVALIDITY."""
        status, data = self.connection.select(_quote(name), readonly=True)
        if status != "OK":
            raise MailboxError(f"the folder “{name}” is missing on the server")
        _, values = self.connection.response("UIDVALIDITY")
        if not values or values[0] is None:
            raise MailboxError(f"the server gave no UIDVALIDITY for “{name}”")
        return int(values[0])

    def uids_after(self, last_uid: int) -> list[int]:
        status, data = self.connection.uid("SEARCH", None, "UID", f"{last_uid + 1}:*")  # type: ignore[arg-type]
        return self._uids(status, data, lambda uid: uid > last_uid)

    def uids_since(self, day: date) -> list[int]:
        status, data = self.connection.uid("SEARCH", None, "SINCE", day.strftime("%d-%b-%Y"))  # type: ignore[arg-type]
        return self._uids(status, data, lambda uid: True)

    @staticmethod
    def _uids(status: str, data: list, keep) -> list[int]:  # type: ignore[type-arg, no-untyped-def]
        if status != "OK":
            raise MailboxError("the server refused to search the folder")
        # `UID SEARCH UID n:*` answers with the highest UID even when it is below n: filter.
        return sorted(uid for uid in (int(u) for u in (data[0] or b"").split()) if keep(uid))

    def fetch(self, uids: list[int]) -> Iterator[Fetched]:
        """The messages with these UIDs: bytes, and when the server received each."""
        status, data = self.connection.uid(
            "FETCH", ",".join(map(str, uids)), "(UID INTERNALDATE BODY.PEEK[])"
        )
        if status != "OK":
            raise MailboxError("the server refused to send the messages")
        # Servers may send UID and INTERNALDATE before the body ("1 (UID 7 BODY[] {n}") or
        # after it, in the bytes that close the item (" UID 7)"): look in both places.
        pending: tuple[bytes, bytes] | None = None
        for item in data:
            if isinstance(item, tuple) and len(item) == 2:
                if pending is not None:
                    yield _fetched(*pending)
                pending = (item[0], item[1])
            elif pending is not None and isinstance(item, bytes):
                yield _fetched(pending[0] + b" " + item, pending[1])
                pending = None
        if pending is not None:
            yield _fetched(*pending)


class Fetched(NamedTuple):
    uid: int
    raw: bytes
    received_at: datetime | None  # INTERNALDATE: the date of mail that has no Date header


_MONTHS = {m: n for n, m in enumerate(
    (b"jan", b"feb", b"mar", b"apr", b"may", b"jun", b"jul", b"aug", b"sep", b"oct", b"nov",
     b"dec"), start=1)}  # fmt: skip


def _fetched(attributes: bytes, raw: bytes) -> Fetched:
    uid = _UID.search(attributes)
    if uid is None:
        raise MailboxError("the server sent a message without its UID")
    return Fetched(int(uid.group(1)), raw, _internal_date(attributes))


def _internal_date(attributes: bytes) -> datetime | None:
    found = _INTERNALDATE.search(attributes)
    if found is None:
        return None
    day, month, year, hour, minute, second, zone = found.groups()
    try:
        offset = timedelta(hours=int(zone[1:3]), minutes=int(zone[3:5]))
        return datetime(
            int(year), _MONTHS[month.lower()], int(day), int(hour), int(minute), int(second),
            tzinfo=timezone(-offset if zone.startswith(b"-") else offset),
        ).astimezone(UTC)  # fmt: skip
    except (KeyError, ValueError, OverflowError):
        return None


@contextmanager
def imap_session(
    *, host: str, port: int, security: str, username: str, password: str
) -> Iterator[ImapSession]:
    context = ssl.create_default_context()
    try:
        if security == "ssl":
            connection: imaplib.IMAP4 = imaplib.IMAP4_SSL(
                host, port, ssl_context=context, timeout=TIMEOUT_SECONDS
            )
        else:
            connection = imaplib.IMAP4(host, port, timeout=TIMEOUT_SECONDS)
            if security == "starttls":
                connection.starttls(ssl_context=context)
    except ssl.SSLError as error:
        raise MailboxError(f"TLS failed with {host}:{port}: {error.reason or error}") from error
    except TimeoutError as error:
        raise MailboxError(f"{host}:{port} did not answer in {TIMEOUT_SECONDS} s") from error
    except socket.gaierror as error:
        raise MailboxError(f"the host name {host} could not be found") from error
    except OSError as error:
        raise MailboxError(f"cannot reach {host}:{port} ({error.strerror or error})") from error
    except imaplib.IMAP4.error as error:
        raise MailboxError(f"{host}:{port} does not speak IMAP as expected: {error}") from error
    try:
        try:
            connection.login(username, password)
        except imaplib.IMAP4.error as error:
            raise MailboxError(
                "the server refused the username or password"
                + (" (it may need an app password)" if "AUTHENTICATIONFAILED" in str(error) else "")
            ) from error
        yield ImapSession(connection)
    finally:
        with suppress(imaplib.IMAP4.error, OSError):
            connection.logout()
