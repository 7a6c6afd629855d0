"""Real-world RFC 822 mail into what Threadline keeps: people, threading headers, readable text.

Parsing uses the stdlib's compat32 policy: ~5x faster than policy.default on real mail and it
does not crash on headers such as `Message-Id: <>`. Every decode has a fallback, so a bogus
charset costs a few replacement characters, never the message.
"""

from __future__ import annotations

import email
import email.header
import email.parser
import email.utils
import hashlib
import html
import mimetypes
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import Message as EmailMessage
from functools import cached_property
from urllib.parse import unquote

import nh3

KEPT_HEADERS = frozenset(
    {"subject", "message-id", "in-reply-to", "references", "auto-submitted", "x-autoreply",
     "x-autorespond", "list-id", "list-unsubscribe", "feedback-id", "precedence", "return-path",
     "x-auto-response-suppress", "thread-index", "thread-topic"}
)  # fmt: skip


class UnparseableEmail(ValueError):
    """The bytes are not a mail message we can keep; the reason says why, for people."""


@dataclass(frozen=True)
class Address:
    name: str
    address: str  # lower-cased

    # Asked for many times per email: worked out once (frozen dataclasses allow this).
    @cached_property
    def normalised(self) -> str:
        return normalise_email(self.address)

    @cached_property
    def domain(self) -> str:
        return self.address.rpartition("@")[2]

    @property
    def local_part_is_role_account(self) -> bool:
        """no-reply@, mailer-daemon@ and friends are not people to add as contacts."""
        return bool(_NO_REPLY.match(self.address))


@dataclass
class AttachmentPart:
    filename: str  # a bare, safe file name (see safe_filename), never a path
    content_type: str
    size: int
    content_id: str
    inline: bool
    payload: bytes  # the decoded bytes; what is kept of them is the storing side's choice


@dataclass
class ParsedEmail:
    message_id: str
    in_reply_to: str
    references: list[str]
    subject: str
    date: datetime | None
    sender: Address | None
    to: list[Address]
    cc: list[Address]
    text: str
    html: str
    attachments: list[AttachmentPart] = field(default_factory=list)
    automated: str = ""  # why it is automated mail, or "" for a person's message
    out_of_office: bool = False
    headers: dict[str, str] = field(default_factory=dict)
    # For a delivery report: the (normalised) addresses it says have no mailbox (hard_bounces).
    bounced: list[str] = field(default_factory=list)

    @property
    def recipients(self) -> list[Address]:
        return [*self.to, *self.cc]


def normalise_email(address: str) -> str:
    """Lower-case, and drop a +tag from the local part (alice+crm@x -> alice@x)."""
    local, _, domain = address.strip().lower().rpartition("@")
    if not local:
        return address.strip().lower()
    return f"{local.split('+', 1)[0]}@{domain}"


def decode_header(value: object) -> str:
    if not value:
        return ""
    if not isinstance(value, str):
        value = str(value)  # compat32 hands back Header objects for raw 8-bit headers
    if "=?" not in value:
        return _clean(str(value))
    parts = []
    try:
        chunks = email.header.decode_header(str(value))
    except (email.errors.HeaderParseError, ValueError):  # type: ignore[attr-defined]
        return _clean(str(value))
    for chunk, charset in chunks:
        if isinstance(chunk, bytes):
            parts.append(_decode_bytes(chunk, charset))
        else:
            parts.append(chunk)
    # RFC 2047: whitespace between two encoded words is not part of the text.
    return _clean("".join(parts) if len(chunks) > 1 else parts[0] if parts else "")


def _clean(text: str) -> str:
    return " ".join(text.replace("\x00", "").split())


def _decode_bytes(data: bytes, charset: str | None) -> str:
    for candidate in (charset, "utf-8", "windows-1252"):
        if not candidate:
            continue
        try:
            return data.decode(_charset_alias(candidate))
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("utf-8", errors="replace")


def _charset_alias(charset: str) -> str:
    charset = charset.strip().strip('"').lower()
    # Common mislabels seen in real mail.
    return {"unknown-8bit": "windows-1252", "x-unknown": "windows-1252", "ansi_x3.4-1968": "ascii",
            "iso-8859-8-i": "iso-8859-8", "ks_c_5601-1987": "cp949", "gb2312": "gbk",
            "x-user-defined": "windows-1252", "cp-850": "cp850"}.get(charset, charset)  # fmt: skip


def _message_ids(value: str) -> list[str]:
    # Longer than a header line may be (998): not an id anyone could reply to.
    return [i for i in re.findall(r"<[^<>\s]+>", value or "") if len(i) <= 998]


def _raw_headers(message: EmailMessage) -> list[tuple[str, str]]:
    """Header values as sent; raw 8-bit ones (UTF-8 without RFC 2047) decoded, not mangled."""
    found = []
    for name, value in message.raw_items():
        if not isinstance(value, str):
            value = str(value)
        try:
            value.encode("ascii")
        except UnicodeEncodeError:
            value = _decode_bytes(value.encode("ascii", "surrogateescape"), None)
        found.append((name.lower(), value))
    return found


def _addresses(headers: list[tuple[str, str]], name: str) -> list[Address]:
    values = [decode_header(v) for n, v in headers if n == name]
    found = []
    for display, address in _mailboxes(values):
        address = address.strip().strip("<>").lower()
        if "@" in address and " " not in address and len(address) <= 254:
            found.append(Address(name=display.strip()[:200], address=address))
    return found


_ADDR_SPEC = (
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*"
)
# One plain mailbox of a list: "Name" <a@b>, Name <a@b>, <a@b> or a@b, then a comma or the end.
_PLAIN_MAILBOX = re.compile(
    rf'[ \t]*(?:"(?P<quoted>[^"\\\r\n]*)"[ \t]*<(?P<in_quoted>{_ADDR_SPEC})>'
    rf"|(?P<name>[^\"<>,;:\\()@\[\]\r\n]*?)[ \t]*<(?P<in_name>{_ADDR_SPEC})>"
    rf"|(?P<bare>{_ADDR_SPEC}))[ \t]*(?:,|$)"
)


_BLANKS = re.compile(r"[ \t]+")


def _mailboxes(values: list[str]) -> list[tuple[str, str]]:
    """(name, address) pairs, as `email.utils.getaddresses` reads them. Most headers are plain
    lists of mailboxes, read here with one pattern; the rest (comments, groups, escapes,
    obsolete routes) go to the stdlib's character-by-character parser."""
    found = []
    for value in values:
        position = 0
        plain: list[tuple[str, str]] = []
        while position < len(value):
            mailbox = _PLAIN_MAILBOX.match(value, position)
            if mailbox is None:
                break
            if mailbox["bare"] is not None:
                plain.append(("", mailbox["bare"]))
            elif mailbox["in_quoted"] is not None:
                plain.append((mailbox["quoted"], mailbox["in_quoted"]))
            else:
                plain.append((_BLANKS.sub(" ", mailbox["name"]).strip(" \t"), mailbox["in_name"]))
            position = mailbox.end()
        found += plain if position >= len(value) else email.utils.getaddresses([value])
    return found


def _date(message: EmailMessage) -> datetime | None:
    raw = message.get("Date")
    if not raw:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(str(raw))
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except (OverflowError, ValueError):
        return None


def parse_email(raw: bytes) -> ParsedEmail:
    if not raw or not raw.strip():
        raise UnparseableEmail("the message is empty")
    if raw.startswith(b"From ") and b"\n" in raw:
        raw = raw.split(b"\n", 1)[1]  # mbox separator line
    try:
        message = email.message_from_bytes(raw)
    except Exception as error:  # the stdlib parser is lenient; anything here is exotic
        raise UnparseableEmail(f"the MIME structure could not be read: {error}") from error
    raw_headers = _raw_headers(message)
    # Only the headers Threadline reads are decoded (the first of each); the raw message has all.
    headers: dict[str, str] = {}
    for name, value in raw_headers:
        if name in KEPT_HEADERS and name not in headers:
            headers[name] = decode_header(value)
    senders = _addresses(raw_headers, "from") or _addresses(raw_headers, "sender")
    to = _addresses(raw_headers, "to")
    cc = _addresses(raw_headers, "cc")
    if not senders and not to and not cc:
        raise UnparseableEmail("the message has no sender and no recipients")
    text_parts: list[str] = []
    html_parts: list[str] = []
    attachments: list[AttachmentPart] = []
    _walk(message, text_parts, html_parts, attachments)
    html = sanitise_html("\n".join(html_parts)) if html_parts else ""
    text = "\n\n".join(p.strip("\n") for p in text_parts if p.strip())
    if not text and html:
        text = text_of_sanitised_html(html)
    ids = _message_ids(headers.get("message-id", ""))
    automated, out_of_office = classify_automated(message, headers, senders[0] if senders else None)
    return ParsedEmail(
        message_id=ids[0]
        if ids
        else synthetic_message_id(
            *(str(v) for n, v in raw_headers if n in {"from", "to", "cc", "date", "subject"}), text
        ),
        in_reply_to=(_message_ids(headers.get("in-reply-to", "")) or [""])[0]
        or (returned_message_id(message) if automated == BOUNCE else ""),
        references=_message_ids(headers.get("references", "")),
        subject=headers.get("subject", "")[:300],
        date=_date(message),
        sender=senders[0] if senders else None,
        to=to,
        cc=cc,
        text=text.replace("\x00", ""),
        html=html,
        attachments=attachments,
        automated=automated,
        out_of_office=out_of_office,
        headers=headers,
        bounced=hard_bounces(message) if automated == BOUNCE else [],
    )


def synthetic_message_id(*parts: str) -> str:
    """A stable id for mail without one, from what every copy of it shares (not the Received
    or Delivered-To headers that differ between mailboxes), so each copy is one message."""
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8", "replace")).hexdigest()
    return f"<{digest[:40]}@no-message-id.threadline.invalid>"


def _walk(
    part: EmailMessage, text: list[str], html: list[str], attachments: list[AttachmentPart]
) -> None:
    if part.is_multipart():
        payload = part.get_payload()
        if not isinstance(payload, list):
            return
        children = [child for child in payload if isinstance(child, EmailMessage)]
        if part.get_content_subtype() == "alternative":
            # Prefer the plain part for text and keep the richest HTML part for display.
            plain = [c for c in children if c.get_content_type() == "text/plain"]
            rich = [c for c in children if c.get_content_type() == "text/html"]
            others = [c for c in children if c not in plain and c not in rich]
            if plain:
                text.append(_part_text(plain[0]))
            if rich:
                html.append(_part_text(rich[-1]))
            for child in others:
                _walk(child, text if not plain else [], html, attachments)
            return
        for child in children:
            _walk(child, text, html, attachments)
        return
    content_type = part.get_content_type()
    disposition = (part.get("Content-Disposition") or "").lower()
    filename = part.get_filename()
    filename = decode_header(filename) if filename else ""
    if (
        content_type in {"text/plain", "text/html"}
        and "attachment" not in disposition
        and not filename
    ):
        (text if content_type == "text/plain" else html).append(_part_text(part))
        return
    if content_type == "message/rfc822" or content_type.startswith("multipart/"):
        return
    try:
        decoded = part.get_payload(decode=True)
    except Exception:  # a broken transfer encoding: keep the attachment's name, lose its bytes
        decoded = None
    payload = decoded if isinstance(decoded, bytes) else b""
    content_id = decode_header(part.get("Content-ID") or "").strip().strip("<>")
    # Apple Mail gives real attachments a Content-ID too: the disposition wins.
    inline = "attachment" not in disposition and ("inline" in disposition or bool(content_id))
    if not _MIME_TYPE.fullmatch(content_type):
        content_type = "application/octet-stream"
    attachments.append(
        AttachmentPart(
            filename=safe_filename(filename, content_type),
            content_type=content_type,
            size=len(payload),
            content_id=content_id[:998],
            inline=inline,
            payload=payload,
        )
    )


_MIME_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}")
_UNSAFE_IN_FILENAMES = re.compile(r'[<>:"|?*\x00-\x1f\x7f]')


def safe_filename(name: str, content_type: str) -> str:
    """A file name to offer for download: the last path component only, without control or
    bidi-override characters (U+202E makes "invoice", RLO, "fdp.exe" read as "invoiceexe.pdf"),
    no leading dots, at most 200 characters with the extension kept; from the type when empty."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c) not in {"Cc", "Cf", "Zl", "Zp"})
    name = " ".join(_UNSAFE_IN_FILENAMES.sub("_", name).split()).lstrip(". ").rstrip(". ")
    if not name:
        extension = mimetypes.guess_extension(content_type, strict=False) or ".bin"
        return f"attachment{extension}"
    if len(name) > 200:
        stem, dot, extension = name.rpartition(".")
        if dot and 0 < len(extension) <= 16:
            name = f"{stem[: 199 - len(extension)]}.{extension}"
        else:
            name = name[:200]
    return name


def _part_text(part: EmailMessage) -> str:
    try:
        payload = part.get_payload(decode=True)
    except Exception:
        payload = None
    if not isinstance(payload, bytes):
        raw = part.get_payload()
        return raw if isinstance(raw, str) else ""
    return _decode_bytes(payload, part.get_content_charset())


_TAGS = {"a", "b", "blockquote", "br", "code", "div", "em", "i", "li", "ol", "p", "pre", "span",
         "strong", "table", "tbody", "td", "th", "thead", "tr", "u", "ul", "h1", "h2", "h3",
         "h4", "hr", "img"}  # fmt: skip
# Gone with their content: code, and what no mail client shows (the page title, fallbacks).
_DROPPED_WITH_CONTENT = {"script", "style", "title", "noscript", "iframe", "noembed", "noframes",
                         "xmp"}  # fmt: skip
_ATTRIBUTES = {"a": {"href", "title"}, "img": {"alt", "src"}, "td": {"colspan", "rowspan"}}
_SCHEMES = {"http", "https", "mailto", "cid"}


def _keep_only_cid_images(tag: str, attribute: str, value: str) -> str | None:
    # A remote image tells its sender when (and that) the mail was read: never load one.
    if tag == "img" and attribute == "src" and not value.lower().startswith("cid:"):
        return None
    return value


# Built once: ingestion sanitises every HTML email with it.
_SANITISER = nh3.Cleaner(
    tags=_TAGS, clean_content_tags=_DROPPED_WITH_CONTENT, attributes=_ATTRIBUTES,
    attribute_filter=_keep_only_cid_images, url_schemes=_SCHEMES,
    link_rel="noopener noreferrer nofollow",
)  # fmt: skip
_BLOCK_TAG = re.compile(r"</?(?:p|div|br|li|tr|h1|h2|h3|h4|blockquote|table|ul|ol|hr|pre)\b[^>]*>")
_TAG = re.compile(r"<[^>]*>")
_SPACES = re.compile(r"[ \t]+")
_BLANK_LINES = re.compile(r"\n{3,}")


def _clean_html(html: str, attribute_filter: Callable[[str, str, str], str | None]) -> str:
    """nh3 with the rules for email; `attribute_filter` may rewrite or drop (None) any kept
    attribute (tag, name, value). For display, where the filter differs per email."""
    return nh3.clean(
        html, tags=_TAGS, clean_content_tags=_DROPPED_WITH_CONTENT, attributes=_ATTRIBUTES,
        attribute_filter=attribute_filter, url_schemes=_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    )  # fmt: skip


def sanitise_html(html: str) -> str:
    """Safe to show: no scripts, styles, event handlers, forms, or images other than the
    email's own inline (cid:) ones; plain links stay."""
    return _SANITISER.clean(html)


def html_to_text(html: str) -> str:
    return text_of_sanitised_html(sanitise_html(html))


def text_of_sanitised_html(sanitised: str) -> str:
    """Readable text of HTML that went through sanitise_html (parsed once, by html5ever): its
    markup is regular, so a line break for each block tag and the entities decoded will do."""
    text = html.unescape(_TAG.sub("", _BLOCK_TAG.sub("\n", sanitised))).replace("\xa0", " ")
    lines = [_SPACES.sub(" ", line).strip() for line in text.splitlines()]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


_IMG_WITHOUT_SRC = re.compile(r"<img\b(?![^>]*\ssrc=)[^>]*>")


@dataclass(frozen=True)
class DisplayHtml:
    html: str
    hidden_images: int  # remote (or missing) images that are not shown


def html_for_display(html: str, inline_urls: dict[str, str]) -> DisplayHtml:
    """Sanitised HTML made ready to show: `cid:` images pointed at `inline_urls` (Content-ID
    -> URL), every other image source dropped. It is sanitised again on the way out, so HTML
    stored by an older, looser sanitiser is held to today's rules."""
    by_id = {content_id.lower(): url for content_id, url in inline_urls.items()}

    def images(tag: str, attribute: str, value: str) -> str | None:
        if tag == "img" and attribute == "src":
            if value.lower().startswith("cid:"):
                return by_id.get(unquote(value[4:]).strip().strip("<>").lower())
            return None
        return value

    shown = _clean_html(html, images)
    return DisplayHtml(html=shown, hidden_images=len(_IMG_WITHOUT_SRC.findall(shown)))


# The automated reason of a bounce (Message.automated_reason), which health reads too.
BOUNCE = "bounce"
_NO_REPLY = re.compile(
    r"^(no[-_.]?reply|do[-_.]?not[-_.]?reply|mailer-daemon|postmaster|bounces?)([+-].*)?@"
)
_OOO_SUBJECT = re.compile(
    r"^(out of (the )?office|automatic reply|auto(matic)?[- ]?reply|autoreply|abwesenheit|"
    r"r[ée]ponse automatique|absence|respuesta autom[aá]tica|fuori sede|afwezig)",
    re.IGNORECASE,
)


def classify_automated(
    message: EmailMessage, headers: dict[str, str], sender: Address | None
) -> tuple[str, bool]:
    """(reason it is automated or "", whether it is an out-of-office reply). See HEALTH.md."""
    auto_submitted = headers.get("auto-submitted", "").lower()
    subject = headers.get("subject", "")
    out_of_office = bool(
        _OOO_SUBJECT.match(subject)
        or "x-autoreply" in headers
        or "x-autorespond" in headers
        or auto_submitted.startswith("auto-replied")
    )
    if message.get_content_type() == "multipart/report" or (
        sender is not None and sender.address.startswith(("mailer-daemon@", "postmaster@"))
    ):
        return BOUNCE, False
    if out_of_office:
        return "out-of-office", True
    if auto_submitted and auto_submitted != "no":
        return f"Auto-Submitted: {auto_submitted}", False
    for name in ("list-id", "list-unsubscribe", "feedback-id"):
        if name in headers:
            return f"{name.title()} header", False
    precedence = headers.get("precedence", "").lower()
    if precedence in {"bulk", "list", "junk"}:
        return f"Precedence: {precedence}", False
    if headers.get("return-path", "").strip() == "<>":
        return "empty Return-Path", False
    if sender is not None and _NO_REPLY.match(sender.address):
        return "no-reply sender", False
    return "", False


# RFC 3463 statuses saying the address itself is wrong: other address status (5.1.0), no such
# mailbox (5.1.1), no such domain (5.1.2), a malformed address (5.1.3), the mailbox moved away
# (5.1.6), a domain that takes no mail (null MX, 5.1.10). Not 5.1.7 and 5.1.8, which are about
# *our* sender address, nor a refusal (5.7.x), a full mailbox (5.2.2) or a delay (4.x.x).
_NO_SUCH_MAILBOX = re.compile(r"5\.1\.(?:0|1|2|3|6|10)")


def hard_bounces(message: EmailMessage) -> list[str]:
    """The addresses a delivery status notification (RFC 3464) says failed for good because
    there is no such mailbox, normalised. Plain-text bounces, which follow no format, name
    none: guessing addresses from their prose would mark people left who have not."""
    found: list[str] = []
    for fields in _recipient_reports(message):
        action = str(fields.get("Action") or "").lower().split()
        status = str(fields.get("Status") or "").split()
        if action[:1] != ["failed"] or not status or not _NO_SUCH_MAILBOX.fullmatch(status[0]):
            continue
        address = _report_address(str(fields.get("Final-Recipient") or "")) or _report_address(
            str(fields.get("Original-Recipient") or "")
        )
        if address and address not in found:
            found.append(address)
    return found


def _recipient_reports(message: EmailMessage) -> list[EmailMessage]:
    """A delivery report's per-recipient field blocks. The stdlib reads a message/delivery-status
    part as header blocks: the report's own fields first, then one block per recipient."""
    if message.get_content_type() != "multipart/report":
        return []
    if str(message.get_param("report-type") or "").lower() != "delivery-status":
        return []
    parts = message.get_payload()
    blocks: list[EmailMessage] = []
    for part in parts if isinstance(parts, list) else []:
        if isinstance(part, EmailMessage) and part.get_content_type() == "message/delivery-status":
            payload = part.get_payload()
            if isinstance(payload, list):
                blocks += [block for block in payload[1:] if isinstance(block, EmailMessage)]
    return blocks


_REPORTED_ADDRESS = re.compile(_ADDR_SPEC)


def _report_address(value: str) -> str:
    """`rfc822; sam@acme.example` -> sam@acme.example; "" for another address type."""
    kind, _, address = value.partition(";")
    address = address.strip().strip("<>")
    if kind.strip().lower() != "rfc822" or len(address) > 254:
        return ""
    if not _REPORTED_ADDRESS.fullmatch(address):
        return ""
    return normalise_email(address)


def returned_message_id(message: EmailMessage) -> str:
    """The Message-ID of the email a bounce returns (its message/rfc822 or
    text/rfc822-headers part), so the bounce threads into the conversation of the email that
    did not arrive: mail servers seldom set In-Reply-To on a bounce."""
    for part in message.walk():
        kind = part.get_content_type()
        if kind == "message/rfc822":
            payload = part.get_payload()
            returned = payload[0] if isinstance(payload, list) and payload else None
            value = returned.get("Message-ID") if isinstance(returned, EmailMessage) else None
        elif kind == "text/rfc822-headers":
            body = part.get_payload(decode=True)
            text = body.decode("ascii", "replace") if isinstance(body, bytes) else ""
            value = email.parser.HeaderParser().parsestr(text).get("Message-ID")
        else:
            continue
        ids = _message_ids(decode_header(value)) if value else []
        if ids:
            return ids[0]
    return ""
