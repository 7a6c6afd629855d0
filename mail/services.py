"""Email in: from raw bytes to a message in the right account's conversation, exactly once."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import FREE_MAIL_DOMAINS, Account, AccountDomain
from contacts.models import Contact, ContactAddress
from conversations.models import Conversation, Message, Participant
from conversations.services import record_activity
from mail.models import Mailbox, QuarantinedEmail, RawEmail, UnsortedEmail
from mail.parsing import Address, ParsedEmail, UnparseableEmail, parse_email
from mail.quotes import split_reply
from mail.threading import find_conversation
from organisations.models import Organisation, User


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


@dataclass
class IngestResult:
    outcome: str  # "created", "duplicate", "unsorted", "quarantined"
    message: Message | None = None
    reason: str = ""
    created_contacts: list[Contact] = field(default_factory=list)


def email_ingest(
    *,
    org: Organisation,
    raw: bytes,
    directory: OrgDirectory | None = None,
    source: str = "",
    account: Account | None = None,
    mailbox: Mailbox | None = None,
) -> IngestResult:
    """Store one email. Safe to call again with the same bytes: nothing is duplicated.

    `account` files the message under that account whoever it is from (a member sorting an
    unsorted email); otherwise the people in it decide.
    """
    directory = directory or OrgDirectory.load(org)
    sha = hashlib.sha256(raw).hexdigest()
    try:
        parsed = parse_email(raw)
    except UnparseableEmail as error:
        QuarantinedEmail.objects.for_org(org).create(
            mailbox=mailbox, raw=raw, reason=str(error), source=source
        )
        return IngestResult("quarantined", reason=str(error))
    try:
        with transaction.atomic():
            return _store(org, raw, sha, parsed, directory, account)
    except IntegrityError:
        # Another worker stored the same message a moment ago: that copy is the one.
        existing = Message.objects.for_org(org).filter(message_id=parsed.message_id).first()
        if existing is not None:
            return IngestResult("duplicate", message=existing)
        if UnsortedEmail.objects.for_org(org).filter(message_id=parsed.message_id).exists():
            return IngestResult("unsorted")
        raise
    except Exception as error:  # keep the mail and the batch going; the reason says what broke
        reason = f"could not be stored: {type(error).__name__}: {error}"
        QuarantinedEmail.objects.for_org(org).create(
            mailbox=mailbox, raw=raw, reason=reason[:2000], source=source
        )
        return IngestResult("quarantined", reason=reason)


def _store(
    org: Organisation,
    raw: bytes,
    sha: str,
    parsed: ParsedEmail,
    directory: OrgDirectory,
    forced_account: Account | None,
) -> IngestResult:
    existing = Message.objects.for_org(org).filter(message_id=parsed.message_id).first()
    if existing is not None:
        RawEmail.objects.for_org(org).get_or_create(
            sha256=sha, defaults={"raw": raw, "message": existing}
        )
        return IngestResult("duplicate", message=existing)
    people = [a for a in [parsed.sender, *parsed.recipients] if a is not None]
    theirs = [a for a in people if directory.member(a) is None]
    sender_member = directory.member(parsed.sender) if parsed.sender else None
    if sender_member is not None:
        direction = Message.Direction.INTERNAL if not theirs else Message.Direction.OUTBOUND
    else:
        direction = Message.Direction.INBOUND
    contacts = {
        address.normalised: address.contact
        for address in ContactAddress.objects.for_org(org)
        .filter(kind=ContactAddress.Kind.EMAIL, normalised__in={a.normalised for a in theirs})
        .select_related("contact")
    }
    occurred_at = parsed.date or timezone.now()
    account = forced_account or _account_for(org, parsed, theirs, contacts, direction)
    conversation = find_conversation(
        org=org,
        in_reply_to=parsed.in_reply_to,
        references=parsed.references,
        subject=parsed.subject,
        addresses={a.normalised for a in people},
        account=account,
        occurred_at=occurred_at,
    )
    if conversation is not None and forced_account is None:
        account = conversation.account
    raw_email, _ = RawEmail.objects.for_org(org).get_or_create(sha256=sha, defaults={"raw": raw})
    if account is None:
        UnsortedEmail.objects.for_org(org).create(
            raw_email=raw_email,
            message_id=parsed.message_id,
            subject=parsed.subject,
            sender=parsed.sender.address if parsed.sender else "",
            occurred_at=occurred_at,
        )
        return IngestResult("unsorted")
    created = _new_contacts(org, account, theirs, contacts, forced=forced_account is not None)
    if conversation is None:
        conversation = Conversation.objects.for_org(org).create(
            account=account,
            subject=parsed.subject or "(no subject)",
            owner=account.owner or sender_member,
            started_at=occurred_at,
            last_activity_at=occurred_at,
        )
    split = split_reply(parsed.text)
    quoted = "\n\n".join(part for part in (split.signature, split.quoted_text) if part)
    message = Message.objects.for_org(org).create(
        conversation=conversation,
        account=account,
        kind=Message.Kind.EMAIL,
        direction=direction,
        sender_member=sender_member,
        sender_contact=contacts.get(parsed.sender.normalised) if parsed.sender else None,
        occurred_at=occurred_at,
        subject=parsed.subject,
        body_text=split.new_text,
        quoted_text=quoted,
        body_html=parsed.html,
        message_id=parsed.message_id,
        in_reply_to=parsed.in_reply_to,
        references=" ".join(parsed.references),
        automated_reason=parsed.automated[:100],
        is_out_of_office=parsed.out_of_office,
    )
    Participant.objects.for_org(org).bulk_create(
        Participant(
            message=message,
            contact=contacts.get(address.normalised),
            member=directory.member(address),
            address=address.normalised,
            role=role,
        )
        for role, addresses in (
            (Participant.Role.FROM, [parsed.sender] if parsed.sender else []),
            (Participant.Role.TO, parsed.to),
            (Participant.Role.CC, parsed.cc),
        )
        for address in addresses
    )
    RawEmail.objects.for_org(org).filter(pk=raw_email.pk).update(message=message)
    record_activity(org=org, conversation=conversation, message=message)
    return IngestResult("created", message=message, created_contacts=created)


def _account_for(
    org: Organisation,
    parsed: ParsedEmail,
    theirs: list[Address],
    contacts: dict[str, Contact],
    direction: str,
) -> Account | None:
    """The customer side decides: the sender when they wrote, else the first recipient we know."""
    if direction == Message.Direction.INBOUND and parsed.sender is not None:
        ordered = [parsed.sender, *[a for a in theirs if a != parsed.sender]]
    else:
        ordered = theirs
    for address in ordered:
        contact = contacts.get(address.normalised)
        if contact is not None:
            return Account.objects.for_org(org).get(pk=contact.account_id)
    domains = [a.domain for a in ordered if a.domain not in FREE_MAIL_DOMAINS]
    if not domains:
        return None
    by_domain = dict(
        AccountDomain.objects.for_org(org)
        .filter(domain__in=domains)
        .values_list("domain", "account_id")
    )
    for domain in domains:
        if domain in by_domain:
            return Account.objects.for_org(org).get(pk=by_domain[domain])
    return None


def _new_contacts(
    org: Organisation,
    account: Account,
    theirs: list[Address],
    contacts: dict[str, Contact],
    forced: bool,
) -> list[Contact]:
    """New people at the account's domain become contacts (anyone, if a member filed it)."""
    domains = set(
        AccountDomain.objects.for_org(org).filter(account=account).values_list("domain", flat=True)
    )
    created = []
    for address in theirs:
        if address.normalised in contacts or not (forced or address.domain in domains):
            continue
        if address.local_part_is_role_account:
            continue
        contact = Contact.objects.for_org(org).create(
            account=account, full_name=address.name or address.address.split("@")[0]
        )
        ContactAddress(
            organisation=org, contact=contact, kind=ContactAddress.Kind.EMAIL, value=address.address
        ).save()
        contacts[address.normalised] = contact
        created.append(contact)
    return created


def mailbox_save(
    *, org: Organisation, owner: User, mailbox: Mailbox | None, password: str, **fields: object
) -> Mailbox:
    from mail.secrets import encrypt_secret

    if mailbox is None:
        mailbox = Mailbox(organisation=org, owner=owner)
    for name, value in fields.items():
        setattr(mailbox, name, value)
    if password:
        mailbox.secret = encrypt_secret(password)
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
    result = email_ingest(org=org, raw=bytes(raw), account=account)
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
