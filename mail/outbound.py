"""Email out: the bytes of a reply, SMTP with errors people can act on, and the Sent copy.

A member's mailbox with an SMTP host sends through that server (implicit TLS, STARTTLS or, for
a server on this machine, neither), logging in with the SMTP password or else the IMAP one.
Without one, mail goes through the organisation's default mailer (Django's MAILERS["default"]).
"""

from __future__ import annotations

import email.policy
import smtplib
import socket
import ssl
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr

from mail.imap import MailboxError, imap_session
from mail.models import Mailbox
from mail.parsing import AttachmentPart
from mail.secrets import decrypt_secret

TIMEOUT_SECONDS = 30


class SendError(Exception):
    """Sending failed; the message says why, for people (it is shown on the message)."""


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    security: str
    username: str
    password: str


def smtp_server_of(mailbox: Mailbox | None) -> SmtpServer | None:
    """The mailbox's own SMTP server, or None for the organisation's default mailer."""
    if mailbox is None or not mailbox.smtp_host:
        return None
    secret = mailbox.smtp_secret or mailbox.secret
    try:
        password = decrypt_secret(secret)
    except ValueError as error:
        raise SendError(str(error)) from None
    return SmtpServer(
        host=mailbox.smtp_host,
        port=mailbox.smtp_port,
        security=mailbox.smtp_security,
        username=mailbox.smtp_username or mailbox.username,
        password=password,
    )


@dataclass(frozen=True)
class OutgoingEmail:
    from_name: str
    from_address: str
    to: Sequence[str]
    cc: Sequence[str]
    subject: str
    text: str
    message_id: str
    in_reply_to: str
    references: Sequence[str]
    date: datetime
    attachments: Sequence[AttachmentPart] = ()

    @property
    def recipients(self) -> list[str]:
        return list(dict.fromkeys([*self.to, *self.cc]))


def email_bytes(outgoing: OutgoingEmail) -> bytes:
    """The email as it goes on the wire and into the Sent folder (CRLF line ends)."""
    message = EmailMessage(policy=email.policy.SMTP)
    message["From"] = formataddr((outgoing.from_name, outgoing.from_address))
    message["To"] = ", ".join(outgoing.to)
    if outgoing.cc:
        message["Cc"] = ", ".join(outgoing.cc)
    message["Subject"] = outgoing.subject
    message["Date"] = format_datetime(outgoing.date)
    message["Message-ID"] = outgoing.message_id
    if outgoing.in_reply_to:
        message["In-Reply-To"] = outgoing.in_reply_to
    if outgoing.references:
        message["References"] = " ".join(outgoing.references)
    message.set_content(outgoing.text)
    for part in outgoing.attachments:
        maintype, _, subtype = part.content_type.partition("/")
        message.add_attachment(
            part.payload,
            maintype=maintype or "application",
            subtype=subtype or "octet-stream",
            filename=part.filename,
        )
    return message.as_bytes()


@contextmanager
def smtp_session(server: SmtpServer) -> Iterator[smtplib.SMTP]:
    where = f"{server.host}:{server.port}"
    context = ssl.create_default_context()
    try:
        if server.security == "ssl":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                server.host, server.port, timeout=TIMEOUT_SECONDS, context=context
            )
        else:
            smtp = smtplib.SMTP(server.host, server.port, timeout=TIMEOUT_SECONDS)
            if server.security == "starttls":
                smtp.starttls(context=context)
    except ssl.SSLError as error:
        raise SendError(f"TLS failed with {where}: {error.reason or error}") from error
    except smtplib.SMTPNotSupportedError as error:
        raise SendError(f"{where} does not offer STARTTLS: choose another security") from error
    except TimeoutError as error:
        raise SendError(f"{where} did not answer in {TIMEOUT_SECONDS} s") from error
    except socket.gaierror as error:
        raise SendError(f"the host name {server.host} could not be found") from error
    except (smtplib.SMTPException, OSError) as error:
        detail = getattr(error, "strerror", None) or error
        raise SendError(f"cannot reach the mail server {where} ({detail})") from error
    try:
        if server.username:
            try:
                smtp.login(server.username, server.password)
            except smtplib.SMTPAuthenticationError as error:
                raise SendError(
                    f"the mail server refused the username or password ({_reply(error)})"
                ) from error
            except smtplib.SMTPNotSupportedError as error:
                raise SendError(f"{where} does not accept a login here: {error}") from error
            except (smtplib.SMTPException, OSError) as error:
                raise _explain(error, where) from error
        yield smtp
    finally:
        with suppress(smtplib.SMTPException, OSError):
            smtp.quit()


def _reply(error: smtplib.SMTPResponseException) -> str:
    raw = error.smtp_error
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    return f"{error.smtp_code} {text}".strip()


def smtp_check(server: SmtpServer) -> str:
    """Connect, log in and say hello: what a member sees after "Test SMTP"."""
    with smtp_session(server) as smtp:
        code, _ = smtp.noop()
    login = f" and logged in as {server.username}" if server.username else ""
    return f"Connected to {server.host}:{server.port}{login}; the server answers ({code})."


def _explain(error: Exception, where: str) -> SendError:
    match error:
        case smtplib.SMTPRecipientsRefused():
            refused = ", ".join(
                f"{address} ({code} {text.decode('utf-8', 'replace')})"
                for address, (code, text) in error.recipients.items()
            )
            return SendError(f"the mail server refused the recipient {refused}")
        case smtplib.SMTPSenderRefused():
            return SendError(f"the mail server refused the sender {error.sender} ({_reply(error)})")
        case smtplib.SMTPAuthenticationError():
            return SendError(f"the mail server refused the username or password ({_reply(error)})")
        case smtplib.SMTPResponseException():
            return SendError(f"the mail server refused the email ({_reply(error)})")
        case smtplib.SMTPServerDisconnected():
            return SendError(f"the mail server {where} closed the connection")
        case TimeoutError():
            return SendError(f"the mail server {where} did not answer in time")
        case OSError():
            return SendError(f"cannot reach the mail server {where} ({error.strerror or error})")
    return SendError(f"{type(error).__name__}: {error}")


def deliver(
    *, server: SmtpServer | None, from_address: str, recipients: Sequence[str], raw: bytes
) -> list[str]:
    """Hand the email to a server; returns the recipients it refused while taking the rest.

    Raises SendError when nothing went out.
    """
    if server is None:
        return _deliver_default(from_address, recipients, raw)
    where = f"{server.host}:{server.port}"
    with smtp_session(server) as smtp:
        try:
            refused = smtp.sendmail(from_address, list(recipients), raw)
        except (smtplib.SMTPException, OSError) as error:
            raise _explain(error, where) from error
    return [f"{address} ({code})" for address, (code, _) in refused.items()]


class _PreparedEmail:
    """What Django's mailer needs of an email, for bytes built already (ours, exactly)."""

    def __init__(self, from_address: str, recipients: Sequence[str], raw: bytes) -> None:
        self.from_email = from_address
        self._recipients = list(recipients)
        self._raw = raw

    def recipients(self) -> list[str]:
        return self._recipients

    def message(self, *, policy: email.policy.Policy = email.policy.SMTP) -> EmailMessage:
        return email.message_from_bytes(self._raw, _class=EmailMessage, policy=policy)  # type: ignore[arg-type]


def _deliver_default(from_address: str, recipients: Sequence[str], raw: bytes) -> list[str]:
    from django.core.mail import mailers

    try:
        connection = mailers.default
        prepared = _PreparedEmail(from_address, recipients, raw)
        sent = connection.send_messages([prepared])  # type: ignore[list-item]
    except (smtplib.SMTPException, OSError) as error:
        raise _explain(error, "of the organisation") from error
    if not sent:
        raise SendError("the organisation's mail server did not take the email")
    return []


def sent_copy_append(*, mailbox: Mailbox, raw: bytes) -> str:
    """Put a copy into the mailbox's Sent folder, marked read; returns the folder's name."""
    with imap_session(
        host=mailbox.host,
        port=mailbox.port,
        security=mailbox.security,
        username=mailbox.username,
        password=decrypt_secret(mailbox.secret),
    ) as session:
        folder = session.sent_folder()
        if folder is None:
            raise MailboxError("the mailbox has no Sent folder")
        session.append(folder, raw)
    return folder
