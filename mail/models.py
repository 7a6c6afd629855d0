from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone

from accounts.models import Account
from organisations.tenancy import TenantModel

if TYPE_CHECKING:
    from mail.parsing import AttachmentPart


class RawEmail(TenantModel):
    """The bytes of a message exactly as received, kept so it can be processed again."""

    sha256 = models.CharField(max_length=64)
    raw = models.BinaryField()
    message = models.ForeignKey(
        "conversations.Message",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="raw_copies",
    )
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["organisation", "sha256"], name="raw_email_unique"),
        ]


# Served inline (for <img> in a shown email) only when the bytes are one of these too; every
# other type, SVG included (it can carry script), is only ever a download.
INLINE_IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})


def bytes_are_image_of_type(content: bytes, content_type: str) -> bool:
    """The bytes start the way the declared image type does (the sender chose both)."""
    match content_type:
        case "image/png":
            return content.startswith(b"\x89PNG\r\n\x1a\n")
        case "image/jpeg":
            return content.startswith(b"\xff\xd8\xff")
        case "image/gif":
            return content.startswith((b"GIF87a", b"GIF89a"))
        case "image/webp":
            return content[:4] == b"RIFF" and content[8:12] == b"WEBP"
    return False


class Attachment(TenantModel):
    """A file that came with an email. Its bytes live here (so row-level security covers
    them), unless it was too large to keep: then the row still says what it was, and the
    raw email (RawEmail) still has it."""

    message = models.ForeignKey(
        "conversations.Message", on_delete=models.CASCADE, related_name="attachments"
    )
    position = models.PositiveSmallIntegerField(help_text="Order among the email's parts.")
    filename = models.CharField(max_length=255, help_text="A bare file name, never a path.")
    content_type = models.CharField(max_length=255, help_text="As the sender declared it.")
    size = models.PositiveBigIntegerField(help_text="Decoded size in bytes.")
    sha256 = models.CharField(max_length=64)
    content_id = models.CharField(max_length=998, blank=True, help_text="For cid: references.")
    is_inline = models.BooleanField(default=False)
    too_large = models.BooleanField(default=False)
    content = models.BinaryField(null=True, blank=True)

    class Meta:
        constraints: ClassVar = [
            # Also the index the conversation page's prefetch uses.
            models.UniqueConstraint(
                fields=["organisation", "message", "position"], name="attachment_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(too_large=True, content__isnull=True)
                | models.Q(too_large=False, content__isnull=False),
                name="attachment_content_unless_too_large",
            ),
        ]

    def __str__(self) -> str:
        return self.filename

    @property
    def can_show_inline(self) -> bool:
        return not self.too_large and self.content_type in INLINE_IMAGE_TYPES


class QuarantinedEmail(TenantModel):
    """A message that could not be parsed or stored: kept raw with the reason, never dropped."""

    mailbox = models.ForeignKey(
        "mail.Mailbox", on_delete=models.SET_NULL, null=True, blank=True, related_name="quarantine"
    )
    raw = models.BinaryField()
    sha256 = models.CharField(max_length=64, blank=True)
    reason = models.TextField()
    source = models.CharField(max_length=300, blank=True, help_text="Mailbox, folder and UID.")
    quarantined_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes: ClassVar = [
            models.Index(
                fields=["organisation", "quarantined_at"],
                condition=models.Q(resolved_at__isnull=True),
                name="quarantine_open",
            ),
        ]


class UnsortedEmail(TenantModel):
    """Mail from nobody we know: waits for a member to file it under an account or dismiss it."""

    class State(models.TextChoices):
        WAITING = "waiting", "Waiting"
        FILED = "filed", "Filed"
        DISMISSED = "dismissed", "Dismissed"

    raw_email = models.ForeignKey(RawEmail, on_delete=models.CASCADE, related_name="+")
    message_id = models.CharField(max_length=998)
    subject = models.CharField(max_length=300, blank=True)
    sender = models.CharField(max_length=254, blank=True)
    occurred_at = models.DateTimeField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.WAITING)
    filed_under = models.ForeignKey(
        Account, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["organisation", "message_id"], name="unsorted_email_unique"
            ),
        ]
        indexes: ClassVar = [
            models.Index(
                fields=["organisation", "occurred_at"],
                condition=models.Q(state="waiting"),
                name="unsorted_waiting",
            ),
        ]


class SmtpSecurity(models.TextChoices):
    SSL = "ssl", "TLS (implicit, usually port 465)"
    STARTTLS = "starttls", "STARTTLS (usually port 587)"
    NONE = "none", "None (only for servers on this machine)"


class Mailbox(TenantModel):
    """A member's mailbox that Threadline reads over IMAP: INBOX and Sent, and any others chosen."""

    class Security(models.TextChoices):
        SSL = "ssl", "TLS (implicit, usually port 993)"
        STARTTLS = "starttls", "STARTTLS (usually port 143)"
        NONE = "none", "None (only for servers on this machine)"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mailboxes"
    )
    email_address = models.EmailField()
    host = models.CharField(max_length=253)
    port = models.PositiveIntegerField(default=993)
    security = models.CharField(max_length=8, choices=Security.choices, default=Security.SSL)
    username = models.CharField(max_length=254)
    secret = models.TextField(help_text="The password, encrypted; never shown again.")
    extra_folders = models.JSONField(default=list, blank=True)
    history_days = models.PositiveIntegerField(
        default=90, help_text="How far back to import on first connect."
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    # A sync holds the lease; a stale holder's writes check the token and fail.
    lease_token = models.UUIDField(null=True, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    messages_imported = models.PositiveIntegerField(default=0)
    # Sending (mail/outbound.py). No SMTP host: mail goes out through the organisation's default
    # mailer (Django's MAILERS["default"]), From this mailbox's address.
    smtp_host = models.CharField(
        max_length=253, blank=True, help_text="Empty: send through the organisation's mail server."
    )
    smtp_port = models.PositiveIntegerField(default=587)
    smtp_security = models.CharField(
        max_length=8, choices=SmtpSecurity.choices, default=SmtpSecurity.STARTTLS
    )
    smtp_username = models.CharField(
        max_length=254, blank=True, help_text="Empty: the IMAP username."
    )
    smtp_secret = models.TextField(
        blank=True, help_text="The SMTP password, encrypted; empty: the IMAP password is used."
    )

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["organisation", "owner", "email_address"], name="mailbox_unique_per_owner"
            ),
        ]
        indexes: ClassVar = [
            models.Index(fields=["organisation", "owner"], name="mailbox_org_owner"),
        ]

    def __str__(self) -> str:
        return self.email_address


class MailboxFolder(TenantModel):
    """The sync cursor of one folder: UIDVALIDITY and the highest UID already stored."""

    class Role(models.TextChoices):
        INBOX = "inbox", "Inbox"
        SENT = "sent", "Sent"
        OTHER = "other", "Other"

    mailbox = models.ForeignKey(Mailbox, on_delete=models.CASCADE, related_name="folders")
    name = models.CharField(max_length=500)
    role = models.CharField(max_length=8, choices=Role.choices)
    uidvalidity = models.BigIntegerField(null=True, blank=True)
    last_uid = models.BigIntegerField(default=0)
    last_synced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["organisation", "mailbox", "name"], name="mailbox_folder_unique"
            ),
        ]


class OutboundEmail(TenantModel):
    """How an email a member wrote in Threadline is getting out: its exact bytes (so a retry
    sends the very same email, Message-ID and all), the envelope, and where sending stands.

    The task claims `queued` -> `sending` with a conditional UPDATE, so a task run twice (a
    redelivery, a double click on Retry) sends once. A worker that dies while sending leaves
    `sending`: whether the server took the mail is unknown, so it is never sent again by itself.
    """

    class State(models.TextChoices):
        QUEUED = "queued", "Sending…"
        SENDING = "sending", "Sending…"
        SENT = "sent", "Sent"
        FAILED = "failed", "Not sent"

    message = models.OneToOneField(
        "conversations.Message", on_delete=models.CASCADE, related_name="outbound"
    )
    mailbox = models.ForeignKey(
        Mailbox, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    from_address = models.EmailField()
    recipients = models.JSONField(default=list, help_text="The envelope: To and Cc.")
    raw = models.BinaryField()
    state = models.CharField(max_length=8, choices=State.choices, default=State.QUEUED)
    reason = models.TextField(blank=True, help_text="Why the last attempt failed.")
    attempts = models.PositiveIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # The copy in the member's Sent folder (IMAP APPEND), after sending.
    sent_copy_folder = models.CharField(max_length=500, blank=True)
    sent_copy_error = models.TextField(blank=True)

    class Meta:
        indexes: ClassVar = [
            models.Index(
                fields=["organisation", "claimed_at"],
                condition=models.Q(state="sending"),
                name="outbound_email_sending",
            ),
            # The sweep's other half: emails still waiting for their task.
            models.Index(
                fields=["organisation", "id"],
                condition=models.Q(state="queued"),
                name="outbound_email_queued",
            ),
        ]

    @property
    def can_retry(self) -> bool:
        return self.state == self.State.FAILED


class EmailDraft(TenantModel):
    """What a member is writing in a conversation, saved as they type: one per member and
    conversation, gone once sent."""

    conversation = models.ForeignKey(
        "conversations.Conversation", on_delete=models.CASCADE, related_name="+"
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    to = models.TextField(blank=True)
    cc = models.TextField(blank=True)
    subject = models.CharField(max_length=300, blank=True)
    body = models.TextField(blank=True)
    we_owe = models.CharField(max_length=500, blank=True)
    we_owe_due = models.DateField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["organisation", "conversation", "author"], name="email_draft_unique"
            ),
        ]


class DraftAttachment(TenantModel):
    """A file added to a draft: kept with it, so a reload or a refused send loses nothing,
    and sent with it."""

    draft = models.ForeignKey(EmailDraft, on_delete=models.CASCADE, related_name="attachments")
    filename = models.CharField(max_length=255, help_text="A bare file name, never a path.")
    content_type = models.CharField(max_length=255)
    size = models.PositiveBigIntegerField()
    content = models.BinaryField()

    class Meta:
        indexes: ClassVar = [
            models.Index(fields=["organisation", "draft"], name="draft_attachment_draft"),
        ]

    def as_part(self) -> AttachmentPart:
        from mail.parsing import AttachmentPart

        return AttachmentPart(
            filename=self.filename, content_type=self.content_type, size=self.size,
            content_id="", inline=False, payload=bytes(self.content),
        )  # fmt: skip
