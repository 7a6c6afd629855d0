"""Email in: from raw bytes to a message in the right account's conversation, exactly once."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import NamedTuple

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from accounts.models import FREE_MAIL_DOMAINS, Account, AccountDomain
from contacts.models import Contact, ContactAddress, normalise_address
from conversations.models import Conversation, Message, Participant
from conversations.services import RecordError, record_activity_bulk
from mail.bulk import copy_insert, copy_rows, select_any
from mail.models import (
    Attachment,
    DraftAttachment,
    EmailDraft,
    Mailbox,
    OutboundEmail,
    QuarantinedEmail,
    RawEmail,
    UnsortedEmail,
)
from mail.parsing import Address, AttachmentPart, ParsedEmail, UnparseableEmail, parse_email
from mail.quotes import SplitBody, split_reply
from mail.threading import (
    SUBJECT_WINDOW,
    conversation_from_token,
    known_message_ids,
    normalise_subject,
)
from organisations.models import Organisation, User

FUTURE_DATE_ALLOWANCE = timedelta(hours=1)
# Parts beyond this many are not listed (the raw email has them): a crafted email with
# thousands of empty parts should not become thousands of rows.
MAX_ATTACHMENTS_PER_MESSAGE = 100
# One INSERT carries at most about this many attachment bytes.
ATTACHMENT_INSERT_BYTES = 32 * 1024 * 1024


@dataclass
class OrgDirectory:
    """Who is "us" in an organisation, looked up once per batch rather than per message."""

    members_by_address: dict[str, User]

    @classmethod
    def load(cls, org: Organisation, extra: dict[str, User] | None = None) -> OrgDirectory:
        members = User.objects.filter(memberships__organisation=org)
        found = {user.email.lower(): user for user in members}
        return cls(members_by_address=found | (extra or {}))

    def member(self, address: Address) -> User | None:
        return self.members_by_address.get(address.address) or self.members_by_address.get(
            address.normalised
        )


class IncomingEmail(NamedTuple):
    raw: bytes
    source: str  # where it came from, for people: mailbox, folder and UID
    # When the server received it (IMAP INTERNALDATE): the date of mail with no Date header.
    received_at: datetime | None = None


@dataclass
class IngestResult:
    outcome: str  # "created", "duplicate", "unsorted", "quarantined"
    message: Message | None = None
    reason: str = ""
    created_contacts: list[Contact] = field(default_factory=list)


@dataclass
class PreparedEmail:
    """An email read and split into new text and quotes: all the work that needs no database,
    so a sync can do it for the next batch while the database writes this one."""

    raw: bytes
    source: str
    sha256: str
    email: ParsedEmail | None  # None when it cannot be read
    reason: str = ""  # why it cannot be read
    split: SplitBody | None = None


def prepare_email(item: IncomingEmail | tuple[bytes, str]) -> PreparedEmail:
    raw, source, received_at = IncomingEmail(*item)
    sha = hashlib.sha256(raw).hexdigest()
    try:
        email = parse_email(raw)
    except UnparseableEmail as error:
        return PreparedEmail(raw, source, sha, None, reason=str(error))
    email.date = email.date or received_at
    return PreparedEmail(raw, source, sha, email, split=split_reply(email.text))


def email_ingest(
    *,
    org: Organisation,
    raw: bytes,
    directory: OrgDirectory | None = None,
    source: str = "",
    account: Account | None = None,
    mailbox: Mailbox | None = None,
    received_at: datetime | None = None,
) -> IngestResult:
    """Store one email. Safe to call again with the same bytes: nothing is duplicated.

    `account` files the message under that account whoever it is from (a member sorting an
    unsorted email); otherwise the people in it decide.
    """
    return emails_ingest(
        org=org,
        items=[IncomingEmail(raw, source, received_at)],
        directory=directory,
        account=account,
        mailbox=mailbox,
    )[0]


def emails_ingest(
    *,
    org: Organisation,
    items: Sequence[PreparedEmail | IncomingEmail | tuple[bytes, str]],
    directory: OrgDirectory | None = None,
    account: Account | None = None,
    mailbox: Mailbox | None = None,
) -> list[IngestResult]:
    """Store a batch of emails (raw bytes and where each came from, or already prepared) with
    a handful of queries.

    Lookups are made once for the batch and rows written in bulk. If another worker wrote one
    of the same rows a moment ago (a message, a new contact), the batch is looked up and tried
    again; if it still cannot be written whole, it is done one email at a time, so one bad
    email costs only itself.
    """
    directory = directory or OrgDirectory.load(org)
    emails = [item if isinstance(item, PreparedEmail) else prepare_email(item) for item in items]
    for _ in range(2):
        try:
            with transaction.atomic():
                return _Batch(org, directory, account, mailbox).ingest(emails)
        except SoftTimeLimitExceeded:
            raise  # the task is out of time: stop, the batch rolls back and the cursor stays put
        except IntegrityError:
            continue  # the other worker's rows are committed now: the next look-up sees them
        except Exception:
            break
    return [_ingest_alone(org, item, directory, account, mailbox) for item in emails]


RACE_RETRIES = 3


def _ingest_alone(
    org: Organisation,
    item: PreparedEmail,
    directory: OrgDirectory,
    account: Account | None,
    mailbox: Mailbox | None,
) -> IngestResult:
    raw, source = item.raw, item.source
    conflict: IntegrityError | None = None
    for _ in range(RACE_RETRIES):
        try:
            with transaction.atomic():
                return _Batch(org, directory, account, mailbox).ingest([item])[0]
        except IntegrityError as error:
            # Another worker stored this message, or a contact or raw copy it needs, a moment
            # ago: try again, and the look-up finds their rows (a duplicate, a known person).
            conflict = error
        except SoftTimeLimitExceeded:
            raise
        except Exception as error:  # keep the mail and the batch going; the reason says what broke
            reason = f"could not be stored: {type(error).__name__}: {error}"
            return _quarantine(org, raw, source, mailbox, reason)
    return _quarantine(
        org, raw, source, mailbox, f"could not be stored: a conflicting row: {conflict}"
    )


def _quarantine(
    org: Organisation, raw: bytes, source: str, mailbox: Mailbox | None, reason: str
) -> IngestResult:
    sha = hashlib.sha256(raw).hexdigest()
    # The same bad bytes read again (a resync) stay one quarantined email.
    if not QuarantinedEmail.objects.for_org(org).filter(sha256=sha, resolved_at=None).exists():
        QuarantinedEmail.objects.for_org(org).create(
            mailbox=mailbox, raw=raw, sha256=sha, reason=reason[:2000], source=source[:300]
        )
    return IngestResult("quarantined", reason=reason)


class _Batch:
    """One batch of emails: lookups done once, rows collected and written once."""

    def __init__(
        self,
        org: Organisation,
        directory: OrgDirectory,
        forced_account: Account | None,
        mailbox: Mailbox | None,
    ) -> None:
        self.org, self.directory = org, directory
        self.forced_account, self.mailbox = forced_account, mailbox
        self.messages: list[Message] = []
        # Rows nothing else points at are plain tuples, not models: written by COPY in _write.
        self.participants: list[tuple[Message, str, Contact | None, User | None, str]] = []
        self.attachments: list[Attachment] = []
        self.raws: list[tuple[str, bytes, Message | None]] = []  # sha256, bytes, message
        self.unsorted: list[tuple[UnsortedEmail, str]] = []  # and the sha256 of its bytes
        self.quarantined: list[QuarantinedEmail] = []
        self.new_contacts: list[tuple[Contact, ContactAddress]] = []
        self.pending: dict[str, Message] = {}  # Message-ID -> message written at the end
        self.new_conversations: list[Conversation] = []
        self.conversations: dict[int, Conversation] = {}
        # (account id, normalised subject) -> [(conversation, everyone in it)], for threading
        # replies that carry no usable headers; built from the database once, then kept current.
        self.by_subject: dict[tuple[int, str], list[tuple[Conversation, set[str]]]] = {}

    def ingest(self, items: list[PreparedEmail]) -> list[IngestResult]:
        self._look_up([item.email for item in items if item.email is not None])
        unreadable = [item.sha256 for item in items if item.email is None]
        self.quarantined_shas = set(
            QuarantinedEmail.objects.for_org(self.org)
            .filter(sha256__in=unreadable, resolved_at=None)
            .values_list("sha256", flat=True)
        ) if unreadable else set()  # fmt: skip
        results = []
        for item in items:
            raw, source, sha, email = item.raw, item.source, item.sha256, item.email
            if email is None:
                if sha not in self.quarantined_shas:
                    self.quarantined_shas.add(sha)
                    self.quarantined.append(
                        QuarantinedEmail(
                            organisation=self.org, mailbox=self.mailbox, raw=raw, sha256=sha,
                            reason=item.reason, source=source[:300],
                        )
                    )  # fmt: skip
                results.append(IngestResult("quarantined", reason=item.reason))
            else:
                results.append(self._one(raw, sha, email, item.split))
        self._write()
        return results

    def _look_up(self, emails: list[ParsedEmail]) -> None:
        org = self.org
        ids = {e.message_id for e in emails}
        threads = {i for e in emails for i in [e.in_reply_to, *e.references] if i}
        self.known = known_message_ids(org=org, message_ids=list(ids | threads))
        self.threads: dict[str, Conversation] = {}  # Message-ID -> conversation, this batch
        # This batch's messages that are stored already (a colleague's mailbox, a resync).
        stored = ids & self.known.keys()
        self.existing: dict[str, Message] = {
            message.message_id: message  # type: ignore[misc]
            for message in Message.objects.for_org(org).filter(message_id__in=stored)
        } if stored else {}  # fmt: skip
        self.unsorted_ids = {
            message_id
            for (message_id,) in select_any(
                org=org, model=UnsortedEmail, columns=("message_id",), key="message_id",
                values=ids,
            )
        }  # fmt: skip
        self.waited_unsorted = set(self.unsorted_ids)
        people = [a for e in emails for a in [e.sender, *e.recipients] if a is not None]
        theirs = {a.normalised for a in people if self.directory.member(a) is None}
        # Addresses a delivery report says do not exist: whose they were, in the same query.
        bounced = {address for e in emails for address in e.bounced}
        # Contacts as far as ingesting needs them (who, at which account); the rest of each
        # loads if anything asks for it. (Phone numbers have no @: only emails match.)
        found = dict(
            select_any(
                org=org, model=ContactAddress, columns=("normalised", "contact_id"),
                key="normalised", values=theirs | bounced,
            )
        )  # fmt: skip
        fields = ["id", "organisation_id", "account_id"]
        by_id = {
            row[0]: Contact.from_db(None, fields, row)
            for row in select_any(
                org=org, model=Contact, columns=fields, key="id", values=set(found.values())
            )
        }
        self.contacts: dict[str, Contact] = {
            address: by_id[contact_id] for address, contact_id in found.items()
        }
        domains = {a.domain for a in people} | {_domain(a) for a in bounced}
        domains -= FREE_MAIL_DOMAINS
        self.domains: dict[str, int] = dict(
            AccountDomain.objects.for_org(org)
            .filter(domain__in=domains)
            .values_list("domain", "account_id")
        )
        # The conversations replies point at, by a stored Message-ID or by our reply token.
        tokens = {
            message_id: conversation_id
            for message_id in threads - self.known.keys()
            if (conversation_id := conversation_from_token(org_id=org.pk, message_id=message_id))
        }
        wanted = {self.known[i] for i in threads if i in self.known} | set(tokens.values())
        self.conversations.update(Conversation.objects.for_org(org).in_bulk(wanted))
        self.tokens = {i: c for i, c in tokens.items() if c in self.conversations}
        self.accounts: dict[int, Account] = Account.objects.for_org(org).in_bulk(
            {c.account_id for c in self.contacts.values()}
            | set(self.domains.values())
            | {c.account_id for c in self.conversations.values()}
        )
        dates = [e.date for e in emails if e.date is not None] or [timezone.now()]
        subjects = {normalise_subject(e.subject) for e in emails} - {""}
        self._index_subjects(subjects, min(dates) - SUBJECT_WINDOW, max(dates) + SUBJECT_WINDOW)

    def _index_subjects(self, subjects: set[str], since: datetime, until: datetime) -> None:
        """Recent conversations of this batch's accounts on this batch's subjects, with who
        took part in them: three queries. An account can have many conversations in the
        window: only their subjects are read, and those on a subject here in full."""
        if not subjects:
            return
        matched = [
            pk
            for pk, subject in Conversation.objects.for_org(self.org)
            .filter(
                account_id__in=[
                    *self.accounts,
                    *([self.forced_account.pk] if self.forced_account else []),
                ],
                last_activity_at__range=(since, until),
            )
            .values_list("pk", "subject")
            if normalise_subject(subject) in subjects
        ]
        self.conversations.update(
            Conversation.objects.for_org(self.org).in_bulk(
                [pk for pk in matched if pk not in self.conversations]
            )
        )
        recent = {pk: self.conversations[pk] for pk in matched}
        if not recent:
            return
        # Their messages first, then those messages' people: joined in one query, the planner
        # (taking an organisation the statistics do not know yet for a handful of rows) read
        # every participant the organisation had, once per batch of its first import.
        conversation_of = dict(
            Message.objects.for_org(self.org)
            .filter(conversation_id__in=recent)
            .values_list("pk", "conversation_id")
        )
        people: dict[int, set[str]] = {}
        for message_id, address in (
            Participant.objects.for_org(self.org)
            .filter(message_id__in=conversation_of)
            .exclude(address="")
            .values_list("message_id", "address")
        ):
            people.setdefault(conversation_of[message_id], set()).add(address)
        for conversation in recent.values():
            key = (conversation.account_id, normalise_subject(conversation.subject))
            self.by_subject.setdefault(key, []).append(
                (conversation, people.get(conversation.pk, set()))
            )

    def _one(
        self, raw: bytes, sha: str, email: ParsedEmail, split: SplitBody | None = None
    ) -> IngestResult:
        org, directory = self.org, self.directory
        if email.message_id in self.pending:
            return IngestResult("duplicate", message=self.pending[email.message_id])
        if email.message_id in self.known:
            existing = self.existing[email.message_id]
            self.raws.append((sha, raw, existing))
            return IngestResult("duplicate", message=existing)
        people = [a for a in [email.sender, *email.recipients] if a is not None]
        theirs = [a for a in people if directory.member(a) is None]
        sender_member = directory.member(email.sender) if email.sender else None
        if sender_member is not None:
            direction = Message.Direction.INTERNAL if not theirs else Message.Direction.OUTBOUND
        else:
            direction = Message.Direction.INBOUND
        # A Date in the future (a wrong clock, or spam) would hold every clock there for good.
        now = timezone.now()
        occurred_at = min(email.date or now, now + FUTURE_DATE_ALLOWANCE)
        account = self.forced_account or self._account_for(email, theirs, direction)
        # "Someone in common" means someone on the customer's side: we are in every thread.
        conversation = self._thread(email, account, {a.normalised for a in theirs}, occurred_at)
        if conversation is not None and self.forced_account is not None:
            if conversation.account_id != self.forced_account.pk:
                conversation = None  # filed under this account: only its own threads qualify
        elif conversation is not None:
            account = self._account(conversation.account_id)
        if account is None:
            return self._unsorted(raw, sha, email, occurred_at)
        created = self._new_contacts(account, theirs)
        if conversation is None:
            conversation = self._new_conversation(
                email, account, sender_member, people, occurred_at
            )
        conversation.last_activity_at = max(conversation.last_activity_at, occurred_at)
        split = split or split_reply(email.text)
        message = Message(
            organisation=org,
            conversation=conversation,
            account=account,
            kind=Message.Kind.EMAIL,
            direction=direction,
            sender_member=sender_member,
            sender_contact=self.contacts.get(email.sender.normalised) if email.sender else None,
            occurred_at=occurred_at,
            subject=email.subject,
            body_text=split.new_text,
            quoted_text="\n\n".join(p for p in (split.signature, split.quoted_text) if p),
            body_html=email.html,
            message_id=email.message_id,
            in_reply_to=email.in_reply_to,
            references=" ".join(email.references),
            automated_reason=email.automated[:100],
            is_out_of_office=email.out_of_office,
        )
        self.messages.append(message)
        self.pending[email.message_id] = message
        self.threads[email.message_id] = conversation
        for thread_conversation, everyone in self.by_subject.get(
            (account.pk, normalise_subject(conversation.subject)), []
        ):
            if thread_conversation is conversation or (
                conversation.pk is not None and thread_conversation.pk == conversation.pk
            ):
                everyone.update(a.normalised for a in theirs)
        self.raws.append((sha, raw, message))
        self.attachments += attachment_rows(org=org, message=message, parts=email.attachments)
        for role, addresses in (
            (Participant.Role.FROM, [email.sender] if email.sender else []),
            (Participant.Role.TO, email.to),
            (Participant.Role.CC, email.cc),
        ):
            for address in addresses:
                self.participants.append(
                    (message, role, self.contacts.get(address.normalised),
                     directory.member(address), address.normalised)
                )  # fmt: skip
        # Whose mail did not arrive: named by the report, though they sent nothing.
        for bounced in email.bounced:
            self.participants.append(
                (message, Participant.Role.BOUNCED, self.contacts.get(bounced), None, bounced)
            )
        return IngestResult("created", message=message, created_contacts=created)

    def _unsorted(
        self, raw: bytes, sha: str, email: ParsedEmail, occurred_at: datetime
    ) -> IngestResult:
        if email.message_id not in self.unsorted_ids:
            self.unsorted_ids.add(email.message_id)
            self.raws.append((sha, raw, None))
            unsorted = UnsortedEmail(
                organisation=self.org, message_id=email.message_id, subject=email.subject,
                occurred_at=occurred_at, sender=email.sender.address if email.sender else "",
            )  # fmt: skip
            self.unsorted.append((unsorted, sha))
        return IngestResult("unsorted")

    def _new_conversation(
        self,
        email: ParsedEmail,
        account: Account,
        sender_member: User | None,
        people: list[Address],
        occurred_at: datetime,
    ) -> Conversation:
        conversation = Conversation(
            organisation=self.org,
            account=account,
            subject=email.subject or "(no subject)",
            owner_id=account.owner_id or (sender_member.pk if sender_member else None),
            started_at=occurred_at,
            last_activity_at=occurred_at,
        )  # written with the batch
        self.new_conversations.append(conversation)
        key = (account.pk, normalise_subject(conversation.subject))
        everyone = {a.normalised for a in people if self.directory.member(a) is None}
        self.by_subject.setdefault(key, []).append((conversation, everyone))
        return conversation

    def _thread(
        self, email: ParsedEmail, account: Account | None, addresses: set[str], at: datetime
    ) -> Conversation | None:
        ids = [i for i in [email.in_reply_to, *reversed(email.references)] if i]
        for message_id in ids:
            if message_id in self.threads:
                return self.threads[message_id]
            if message_id in self.known:
                return self._conversation(self.known[message_id])
        for message_id in ids:
            if message_id in self.tokens:
                return self._conversation(self.tokens[message_id])
        if account is None or not addresses:
            return None
        # Same subject, someone in common, same account, within 30 days: the most recent one.
        matches = [
            conversation
            for conversation, everyone in self.by_subject.get(
                (account.pk, normalise_subject(email.subject)), []
            )
            if everyone & addresses and abs(conversation.last_activity_at - at) <= SUBJECT_WINDOW
        ]
        return max(matches, key=lambda c: c.last_activity_at, default=None)

    def _conversation(self, conversation_id: int) -> Conversation:
        if conversation_id not in self.conversations:
            self.conversations[conversation_id] = Conversation.objects.for_org(self.org).get(
                pk=conversation_id
            )
        return self.conversations[conversation_id]

    def _account(self, account_id: int) -> Account:
        if account_id not in self.accounts:
            self.accounts[account_id] = Account.objects.for_org(self.org).get(pk=account_id)
        return self.accounts[account_id]

    def _account_for(
        self, email: ParsedEmail, theirs: list[Address], direction: str
    ) -> Account | None:
        """The customer side decides: the sender when they wrote, else the first one we know;
        for a bounce (from a mail server) the people whose address bounced."""
        if direction == Message.Direction.INBOUND and email.sender is not None:
            ordered = [email.sender, *[a for a in theirs if a != email.sender]]
        else:
            ordered = theirs
        addresses = [a.normalised for a in ordered] + email.bounced
        for address in addresses:
            contact = self.contacts.get(address)
            if contact is not None:
                return self._account(contact.account_id)
        for address in addresses:
            account_id = self.domains.get(_domain(address))
            if account_id is not None:
                return self._account(account_id)
        return None

    def _new_contacts(self, account: Account, theirs: list[Address]) -> list[Contact]:
        """New people at the account's domain become contacts (anyone, if a member filed it)."""
        created = []
        for address in theirs:
            if address.normalised in self.contacts or address.local_part_is_role_account:
                continue
            at_account = self.domains.get(address.domain) == account.pk
            if self.forced_account is None and not at_account:
                continue
            contact = Contact(
                organisation=self.org,
                account=account,
                full_name=(address.name or address.address.split("@")[0])[:200],
            )  # written with the batch
            self.new_contacts.append(
                (
                    contact,
                    ContactAddress(
                        organisation=self.org, contact=contact, kind=ContactAddress.Kind.EMAIL,
                        value=address.address,
                        normalised=normalise_address(ContactAddress.Kind.EMAIL, address.address),
                    ),
                )
            )  # fmt: skip
            self.contacts[address.normalised] = contact
            created.append(contact)
        return created

    def _write(self) -> None:
        org = self.org
        # New people first: messages and participants point at them. A contact another worker
        # created a moment ago makes this fail; the batch is then tried again and finds it.
        Contact.objects.for_org(org).bulk_create([contact for contact, _ in self.new_contacts])
        ContactAddress.objects.for_org(org).bulk_create([a for _, a in self.new_contacts])
        copy_insert(org=org, objs=self.new_conversations)
        copy_insert(org=org, objs=self.messages)
        copy_rows(
            org=org,
            model=Participant,
            columns=("organisation_id", "message_id", "role", "contact_id", "member_id", "address"),
            rows=(
                (org.pk, message.pk, role, contact.pk if contact else None,
                 member.pk if member else None, address)
                for message, role, contact, member, address in self.participants
            ),
        )  # fmt: skip
        attachments_write(org=org, attachments=self.attachments)
        # Bytes already kept (a second mailbox, a resync) are not kept twice, but a copy kept
        # before it had a message (it waited unsorted) now links to it.
        raws: dict[str, tuple[str, bytes, Message | None]] = {}
        for raw in self.raws:
            if raw[0] not in raws or raws[raw[0]][2] is None:
                raws[raw[0]] = raw
        now = timezone.now()
        stored = dict(
            copy_rows(
                org=org,
                model=RawEmail,
                columns=("organisation_id", "sha256", "raw", "message_id", "received_at"),
                rows=(
                    (org.pk, sha, raw, message.pk if message else None, now)
                    for sha, raw, message in raws.values()
                ),
                on_conflict="ON CONFLICT (organisation_id, sha256) DO UPDATE "
                "SET message_id = EXCLUDED.message_id WHERE mail_rawemail.message_id IS NULL",
                returning=("sha256", "id"),
            )
        )
        if missing := {sha for _, sha in self.unsorted} - stored.keys():
            stored |= dict(
                RawEmail.objects.for_org(org).filter(sha256__in=missing).values_list("sha256", "pk")
            )
        for unsorted, sha in self.unsorted:
            unsorted.raw_email_id = stored[sha]
        UnsortedEmail.objects.for_org(org).bulk_create([unsorted for unsorted, _ in self.unsorted])
        # Mail that waited unsorted and now found its account (a resync after a domain was added).
        waited = [m.message_id for m in self.messages if m.message_id in self.waited_unsorted]
        if waited:
            UnsortedEmail.objects.for_org(org).filter(
                message_id__in=waited, state=UnsortedEmail.State.WAITING
            ).update(state=UnsortedEmail.State.FILED)
        QuarantinedEmail.objects.for_org(org).bulk_create(self.quarantined)
        record_activity_bulk(org=org, messages=self.messages)


def _domain(address: str) -> str:
    return address.rpartition("@")[2]


def attachment_rows(
    *, org: Organisation, message: Message, parts: list[AttachmentPart]
) -> list[Attachment]:
    """An email's attachments as rows to write with its batch. Each keeps its bytes up to
    MAIL_ATTACHMENT_MAX_BYTES, and the email's together up to
    MAIL_ATTACHMENTS_PER_MESSAGE_MAX_BYTES; past that a row says what it was and how large."""
    rows, kept = [], 0
    for position, part in enumerate(parts[:MAX_ATTACHMENTS_PER_MESSAGE]):
        too_large = (
            part.size > settings.MAIL_ATTACHMENT_MAX_BYTES
            or kept + part.size > settings.MAIL_ATTACHMENTS_PER_MESSAGE_MAX_BYTES
        )
        kept += 0 if too_large else part.size
        rows.append(
            Attachment(
                organisation=org, message=message, position=position, filename=part.filename,
                content_type=part.content_type, size=part.size,
                sha256=hashlib.sha256(part.payload).hexdigest(), content_id=part.content_id,
                is_inline=part.inline, too_large=too_large,
                content=None if too_large else part.payload,
            )
        )  # fmt: skip
    return rows


def attachments_write(*, org: Organisation, attachments: list[Attachment]) -> None:
    """Insert in as few statements as fit ATTACHMENT_INSERT_BYTES (one for ordinary mail)."""
    chunk: list[Attachment] = []
    size = 0
    for attachment in attachments:
        length = len(attachment.content or b"")
        if chunk and size + length > ATTACHMENT_INSERT_BYTES:
            Attachment.objects.for_org(org).bulk_create(chunk)
            chunk, size = [], 0
        chunk.append(attachment)
        size += length
    if chunk:
        Attachment.objects.for_org(org).bulk_create(chunk)


def mailbox_save(
    *,
    org: Organisation,
    owner: User,
    mailbox: Mailbox | None,
    password: str,
    smtp_password: str = "",
    **fields: object,
) -> Mailbox:
    """Save a mailbox's settings; a password given is stored encrypted (an empty one keeps the
    stored one). Without an SMTP password of its own, sending logs in with the IMAP one."""
    from mail.secrets import encrypt_secret

    if mailbox is None:
        mailbox = Mailbox(organisation=org, owner=owner)
    for name, value in fields.items():
        setattr(mailbox, name, value)
    if password:
        mailbox.secret = encrypt_secret(password)
    if smtp_password:
        mailbox.smtp_secret = encrypt_secret(smtp_password)
    mailbox.save()
    return mailbox


def connection_test(*, host: str, port: int, security: str, username: str, password: str) -> str:
    """Log in and look at the folders; returns what was found or raises MailboxError."""
    from mail.imap import imap_session

    with imap_session(
        host=host, port=port, security=security, username=username, password=password
    ) as session:
        sent = session.sent_folder()
        count = len(session.folders())
    found = f"found Sent as “{sent}”" if sent else "found no Sent folder (add its name below)"
    return f"Connected and logged in: {count} folders, {found}."


@transaction.atomic
def unsorted_file(
    *, org: Organisation, unsorted: UnsortedEmail, account: Account, by: User
) -> Message:
    """File an email from nobody we know under an account: its people become contacts there."""
    raw = RawEmail.objects.for_org(org).get(pk=unsorted.raw_email_id).raw
    # Mail with no Date header keeps the date it had while it waited (the server's, or when
    # it came in), not the day it was filed.
    result = email_ingest(
        org=org, raw=bytes(raw), account=account, received_at=unsorted.occurred_at
    )
    if result.message is None:
        raise ValueError(f"the email could not be filed: {result.reason or result.outcome}")
    UnsortedEmail.objects.for_org(org).filter(pk=unsorted.pk).update(
        state=UnsortedEmail.State.FILED, filed_under=account, decided_by=by
    )
    return result.message


def unsorted_dismiss(*, org: Organisation, unsorted: UnsortedEmail, by: User) -> None:
    UnsortedEmail.objects.for_org(org).filter(pk=unsorted.pk).update(
        state=UnsortedEmail.State.DISMISSED, decided_by=by
    )


def quarantine_retry(*, org: Organisation, quarantined: QuarantinedEmail) -> IngestResult:
    """Try a quarantined email again (after a fix); it leaves quarantine if it goes in now."""
    with transaction.atomic():
        result = email_ingest(
            org=org, raw=bytes(quarantined.raw), source=quarantined.source,
            mailbox=None,  # a new failure is recorded on this row, not as a second copy
        )  # fmt: skip
        if result.outcome == "quarantined":
            transaction.set_rollback(True)
    if result.outcome == "quarantined":
        QuarantinedEmail.objects.for_org(org).filter(pk=quarantined.pk).update(reason=result.reason)
    else:
        QuarantinedEmail.objects.for_org(org).filter(pk=quarantined.pk).update(
            resolved_at=timezone.now()
        )
    return result


# --- Email out ---------------------------------------------------------------------------


def smtp_connection_test(
    *,
    mailbox: Mailbox | None,
    host: str,
    port: int,
    security: str,
    username: str,
    password: str,
) -> str:
    """Log in to an SMTP server; returns what was found or raises SendError. An empty
    password uses the mailbox's stored SMTP password, else its IMAP one (as sending does)."""
    from mail.outbound import SendError, SmtpServer, smtp_check
    from mail.secrets import decrypt_secret

    if not host:
        return "No SMTP server given: mail goes out through the organisation's mail server."
    if not password and mailbox is not None:
        try:
            password = decrypt_secret(mailbox.smtp_secret or mailbox.secret)
        except ValueError as error:
            raise SendError(str(error)) from None
    return smtp_check(
        SmtpServer(host=host, port=port, security=security, username=username, password=password)
    )


def sending_mailbox(*, org: Organisation, member: User) -> Mailbox | None:
    """The mailbox a member's mail goes out from: their first active one."""
    return Mailbox.objects.for_org(org).filter(owner=member, is_active=True).order_by("pk").first()


def reply_quote(message: Message) -> str:
    """The message replied to, quoted below the new text the way mail clients do."""
    who = (
        message.sender_contact.full_name
        if message.sender_contact
        else message.sender_member.display_name
        if message.sender_member
        else "someone"
    )
    said = message.body_text.strip()
    lines = "\n".join(f"> {line}" if line else ">" for line in said.splitlines())
    return f"On {message.occurred_at:%a %d %b %Y at %H:%M}, {who} wrote:\n{lines}" if said else ""


def reply_target(*, org: Organisation, conversation: Conversation) -> Message | None:
    """What a reply in this conversation answers: its newest email."""
    return (
        Message.objects.for_org(org)
        .filter(conversation=conversation, kind=Message.Kind.EMAIL)
        .exclude(message_id=None)
        .select_related("sender_contact", "sender_member")
        .order_by("-occurred_at", "-id")
        .first()
    )


MAX_REFERENCES = 20


@transaction.atomic
def email_send(
    *,
    org: Organisation,
    conversation: Conversation,
    author: User,
    to: list[str],
    cc: list[str],
    subject: str,
    text: str,
    attachments: list[AttachmentPart] | None = None,
    reply_to: Message | None = None,
    mark_done: bool = False,
    we_owe: str = "",
    we_owe_due: date | None = None,
) -> Message:
    """Write an email from a member into the conversation at once and send it after commit.

    The message carries a Message-ID with the conversation's reply token, so the customer's
    answer threads back even when their client drops In-Reply-To; the mailbox sync later sees
    the Sent copy's Message-ID and stores nothing twice.
    """
    from conversations.services import commitment_add
    from followups.models import FollowUp
    from followups.services import followup_resolve
    from mail.outbound import OutgoingEmail, email_bytes
    from mail.tasks import send_outbound_email
    from mail.threading import reply_token_message_id

    if not to:
        raise RecordError("Say who the email is to.")
    if reply_to is not None and reply_to.conversation_id != conversation.pk:
        raise RecordError("That message is in another conversation.")
    attachments_check([part.size for part in attachments or []])
    mailbox = sending_mailbox(org=org, member=author)
    from_address = mailbox.email_address if mailbox else author.email
    if not from_address:
        raise RecordError("You have no email address to send from: connect a mailbox.")
    host = from_address.rsplit("@", 1)[-1] or "threadline.invalid"
    message_id = reply_token_message_id(org_id=org.pk, conversation_id=conversation.pk, host=host)
    references: list[str] = []
    if reply_to is not None and reply_to.message_id:
        references = [*reply_to.references.split(), reply_to.message_id][-MAX_REFERENCES:]
    quote = reply_quote(reply_to) if reply_to is not None else ""
    now = timezone.now()
    outgoing = OutgoingEmail(
        from_name=author.display_name,
        from_address=from_address,
        to=to,
        cc=cc,
        subject=" ".join(subject.split())[:300],  # one line: no header injection
        text=text.rstrip() + ("\n\n" + quote if quote else "") + "\n",
        message_id=message_id,
        in_reply_to=reply_to.message_id or "" if reply_to is not None else "",
        references=references,
        date=now,
        attachments=attachments or [],
    )
    raw = email_bytes(outgoing)
    # What this email answers, before it changes the record (for "send and mark done").
    open_followups = list(
        FollowUp.objects.for_org(org).filter(conversation=conversation, resolved_at=None)
    )
    message = Message.objects.for_org(org).create(
        conversation=conversation,
        account_id=conversation.account_id,
        kind=Message.Kind.EMAIL,
        direction=Message.Direction.OUTBOUND,
        sender_member=author,
        occurred_at=now,
        subject=outgoing.subject,
        body_text=text.strip(),
        quoted_text=quote,
        message_id=message_id,
        in_reply_to=outgoing.in_reply_to,
        references=" ".join(references),
        created_by=author,
    )
    contacts = {
        address.normalised: address.contact_id
        for address in ContactAddress.objects.for_org(org).filter(
            kind=ContactAddress.Kind.EMAIL,
            normalised__in=[
                normalise_address(ContactAddress.Kind.EMAIL, a) for a in outgoing.recipients
            ],
        )
    }
    people = [Participant(message=message, member=author, role=Participant.Role.FROM)]
    for role, addresses in ((Participant.Role.TO, to), (Participant.Role.CC, cc)):
        people += [
            Participant(
                message=message,
                contact_id=contacts.get(normalise_address(ContactAddress.Kind.EMAIL, a)),
                address=a.lower(),
                role=role,
            )
            for a in addresses
        ]
    Participant.objects.for_org(org).bulk_create(people)
    if attachments:
        attachments_write(
            org=org, attachments=attachment_rows(org=org, message=message, parts=attachments)
        )
    outbound = OutboundEmail.objects.for_org(org).create(
        message=message,
        mailbox=mailbox,
        from_address=from_address,
        recipients=outgoing.recipients,
        raw=raw,
    )
    record_activity_bulk(org=org, messages=[message])
    if we_owe.strip():
        commitment_add(
            org=org,
            conversation=conversation,
            owed_by="us",
            text=we_owe,
            due_on=we_owe_due,
            message=message,
            by=author,
        )
    if mark_done:
        still_open = set(
            FollowUp.objects.for_org(org)
            .filter(pk__in=[f.pk for f in open_followups], resolved_at=None)
            .values_list("pk", flat=True)
        )
        for followup in open_followups:
            if followup.pk in still_open:
                followup_resolve(
                    org=org, followup=followup, resolution=FollowUp.Resolution.DONE, by=author
                )
    EmailDraft.objects.for_org(org).filter(conversation=conversation, author=author).delete()
    send_outbound_email.delay_on_commit(org.pk, outbound.pk)
    return message


@dataclass
class DeliveryReport:
    outcome: str  # "sent", "failed", "claimed" (another run has it, or it is no longer queued)
    reason: str = ""
    sent_copy: str = ""


def outbound_deliver(*, org: Organisation, outbound_id: int) -> DeliveryReport:
    """Send one queued email, then put a copy in the member's Sent folder. Exactly once: the
    run that moves it from queued to sending (one conditional UPDATE) is the only one that
    sends, so a redelivered task or a second click finds nothing to do."""
    from mail.imap import MailboxError
    from mail.outbound import SendError, deliver, sent_copy_append, smtp_server_of

    now = timezone.now()
    claimed = (
        OutboundEmail.objects.for_org(org)
        .filter(pk=outbound_id, state=OutboundEmail.State.QUEUED)
        .update(
            state=OutboundEmail.State.SENDING,
            claimed_at=now,
            attempts=models.F("attempts") + 1,
        )
    )
    if not claimed:
        return DeliveryReport("claimed")
    outbound = OutboundEmail.objects.for_org(org).select_related("mailbox").get(pk=outbound_id)
    raw = bytes(outbound.raw)
    try:
        refused = deliver(
            server=smtp_server_of(outbound.mailbox),
            from_address=outbound.from_address,
            recipients=outbound.recipients,
            raw=raw,
        )
    except SoftTimeLimitExceeded:
        # Out of time mid-conversation with the server: whether it took the mail is unknown.
        OutboundEmail.objects.for_org(org).filter(pk=outbound.pk).update(
            state=OutboundEmail.State.FAILED,
            reason="the mail server took too long; it may have been sent: check before retrying",
        )
        raise
    except Exception as error:  # SendError says why; anything else must not leave it stuck
        reason = str(error) if isinstance(error, SendError) else f"{type(error).__name__}: {error}"
        OutboundEmail.objects.for_org(org).filter(pk=outbound.pk).update(
            state=OutboundEmail.State.FAILED, reason=reason[:2000]
        )
        return DeliveryReport("failed", reason=reason)
    reason = f"not accepted for {', '.join(refused)}" if refused else ""
    OutboundEmail.objects.for_org(org).filter(pk=outbound.pk).update(
        state=OutboundEmail.State.SENT, sent_at=timezone.now(), reason=reason
    )
    report = DeliveryReport("sent", reason=reason)
    if outbound.mailbox is not None:
        try:
            folder = sent_copy_append(mailbox=outbound.mailbox, raw=raw)
        except (MailboxError, ValueError) as error:
            OutboundEmail.objects.for_org(org).filter(pk=outbound.pk).update(
                sent_copy_error=f"no copy in Sent: {error}"[:2000]
            )
        else:
            OutboundEmail.objects.for_org(org).filter(pk=outbound.pk).update(
                sent_copy_folder=folder[:500]
            )
            report.sent_copy = folder
    return report


# Longer than the send task's hard time limit: a claim this old belongs to a dead worker.
STUCK_SENDING_AFTER = timedelta(minutes=15)
# A queued email's task goes out on commit; one still queued this long later was lost.
LOST_QUEUED_AFTER = timedelta(minutes=5)


@dataclass
class OutboundSweep:
    failed: int  # stuck in sending: now failed, for a member to check and retry
    requeued: int  # queued with no task: sent again


def outbound_sweep(*, org: Organisation) -> OutboundSweep:
    """Put right what a dead worker or a lost task left: an email stuck in `sending` becomes
    failed with a reason that says it may have gone (never resent by itself: a duplicate to a
    customer is worse), and one still `queued` gets its task again (the claim keeps that at
    most once)."""
    from mail.tasks import send_outbound_email

    now = timezone.now()
    emails = OutboundEmail.objects.for_org(org)
    failed = emails.filter(
        state=OutboundEmail.State.SENDING, claimed_at__lt=now - STUCK_SENDING_AFTER
    ).update(
        state=OutboundEmail.State.FAILED,
        reason="sending stopped half way (the worker stopped); it may have been sent: "
        "check before retrying",
    )
    lost = list(
        emails.filter(
            state=OutboundEmail.State.QUEUED, message__created_at__lt=now - LOST_QUEUED_AFTER
        ).values_list("pk", flat=True)
    )
    for outbound_id in lost:
        send_outbound_email.delay(org.pk, outbound_id)
    return OutboundSweep(failed=failed, requeued=len(lost))


def outbound_retry(*, org: Organisation, message: Message) -> bool:
    """Queue a failed email again (the same bytes, the same Message-ID); sent after commit.
    False when it is not failed (sent meanwhile, or already queued again)."""
    from mail.tasks import send_outbound_email

    outbound = OutboundEmail.objects.for_org(org).filter(message=message).first()
    if outbound is None:
        return False
    queued = (
        OutboundEmail.objects.for_org(org)
        .filter(pk=outbound.pk, state=OutboundEmail.State.FAILED)
        .update(state=OutboundEmail.State.QUEUED, reason="")
    )
    if queued:
        send_outbound_email.delay_on_commit(org.pk, outbound.pk)
    return bool(queued)


def draft_save(
    *, org: Organisation, conversation: Conversation, author: User, **fields: object
) -> EmailDraft:
    """Keep what a member is writing (one draft per member and conversation)."""
    draft, _ = EmailDraft.objects.for_org(org).update_or_create(
        conversation=conversation,
        author=author,
        defaults={**fields, "updated_at": timezone.now()},
    )
    return draft


class AttachmentLimitError(RecordError):
    """Files beyond what one email may carry."""


def attachments_check(sizes: Sequence[int]) -> None:
    """One email's files together within the limit (a larger single file is still sent; it
    is kept apart from the raw email only up to MAIL_ATTACHMENT_MAX_BYTES)."""
    together = settings.MAIL_ATTACHMENTS_PER_MESSAGE_MAX_BYTES
    if sum(sizes) > together:
        raise AttachmentLimitError(
            f"Attachments may be {together // (1024 * 1024)} MB together at most."
        )


@transaction.atomic
def draft_attach(
    *, org: Organisation, conversation: Conversation, author: User, parts: list[AttachmentPart]
) -> EmailDraft:
    """Keep files with the member's draft (made if need be), within one email's limits."""
    draft, _ = EmailDraft.objects.for_org(org).get_or_create(
        conversation=conversation, author=author
    )
    kept = [file.size for file in draft_attachments(org=org, draft=draft)]
    attachments_check([*kept, *(part.size for part in parts)])
    DraftAttachment.objects.for_org(org).bulk_create(
        DraftAttachment(
            draft=draft, filename=part.filename, content_type=part.content_type,
            size=part.size, content=part.payload,
        )
        for part in parts
    )  # fmt: skip
    return draft


def draft_attachments(
    *, org: Organisation, draft: EmailDraft | None, with_content: bool = False
) -> list[DraftAttachment]:
    """A draft's files in the order chosen; their bytes only when they are to be sent."""
    if draft is None:
        return []
    files = DraftAttachment.objects.for_org(org).filter(draft=draft).order_by("pk")
    return list(files if with_content else files.defer("content"))


@transaction.atomic
def email_start(
    *,
    org: Organisation,
    account: Account,
    author: User,
    to: list[str],
    cc: list[str],
    subject: str,
    text: str,
    attachments: list[AttachmentPart] | None = None,
    we_owe: str = "",
    we_owe_due: date | None = None,
) -> Conversation:
    """A new email to someone at an account: a new conversation, its first message ours.
    Nothing is kept if it cannot be sent (no mailbox, no addressee)."""
    conversation = Conversation.objects.for_org(org).create(
        account=account,
        subject=subject.strip()[:300] or "(no subject)",
        owner=account.owner or author,
    )
    email_send(
        org=org, conversation=conversation, author=author, to=to, cc=cc, subject=subject,
        text=text, attachments=attachments, we_owe=we_owe, we_owe_due=we_owe_due,
    )  # fmt: skip
    return conversation
