from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.models import Account
from contacts.models import Contact
from organisations.tenancy import TenantModel

if TYPE_CHECKING:
    from organisations.calendar import BusinessCalendar


class Conversation(TenantModel):
    """A thread of messages of any kind with one customer account, kept for as long as it lasts."""

    class State(models.TextChoices):
        """Whose turn it is, derived from the record (conversations/state.py)."""

        AWAITING_US = "awaiting_us", "Awaiting us"
        AWAITING_THEM = "awaiting_them", "Awaiting them"
        SETTLED = "settled", "Settled"
        QUIET = "quiet", "Quiet"

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="conversations")
    subject = models.CharField(max_length=300)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_conversations",
    )
    started_at = models.DateTimeField(default=timezone.now)
    last_activity_at = models.DateTimeField(default=timezone.now)
    last_inbound_at = models.DateTimeField(null=True, blank=True)
    last_outbound_at = models.DateTimeField(null=True, blank=True)
    message_count = models.PositiveIntegerField(default=0)
    state = models.CharField(max_length=14, choices=State.choices, default=State.SETTLED)
    # When the current state began: the customer turn we owe an answer to, or our question.
    state_since = models.DateTimeField(null=True, blank=True)
    # Deadlines in business time, so the follow-up scan is a plain indexed comparison.
    reply_due_at = models.DateTimeField(null=True, blank=True)
    nudge_due_at = models.DateTimeField(null=True, blank=True)
    # A member said the customer's last turn needs no reply ("thanks, all good").
    no_reply_needed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes: ClassVar = [
            models.Index(
                "organisation", "account", models.F("last_activity_at").desc(),
                name="conversation_account_recent",
            ),
            models.Index("organisation", "owner", name="conversation_org_owner"),
            models.Index(
                "organisation", "reply_due_at", condition=Q(state="awaiting_us"),
                name="conversation_reply_due",
            ),
            models.Index(
                "organisation", "nudge_due_at", condition=Q(state="awaiting_them"),
                name="conversation_nudge_due",
            ),
            models.Index(
                "organisation", "last_activity_at", condition=Q(state="settled"),
                name="conversation_settled_activity",
            ),
        ]  # fmt: skip

    def __str__(self) -> str:
        return self.subject


class ConversationLink(TenantModel):
    """Two conversations that belong together, stored once per pair and shown on both.

    `from_conversation` is the earlier one and `to_conversation` carries it on: a split makes
    one from the conversation that was split to the one that took its later messages, so the
    first shows "continued in" and the second "split from".
    """

    from_conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="links_out"
    )
    to_conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="links_in"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["organisation", "from_conversation", "to_conversation"],
                name="conversation_link_unique",
            ),
            models.CheckConstraint(
                condition=~Q(from_conversation=models.F("to_conversation")),
                name="conversation_link_not_self",
            ),
        ]


class MergedConversation(TenantModel):
    """A conversation that no longer exists because it was merged into another one (or its last
    message was moved there): its old links lead to where its messages went."""

    merged_id = models.BigIntegerField(help_text="The id the conversation had.")
    into = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="+")
    merged_at = models.DateTimeField(default=timezone.now)
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["organisation", "merged_id"], name="merged_conversation_unique"
            ),
        ]


class Message(TenantModel):
    """One turn in a conversation: an email, a logged call or meeting, or an internal note."""

    class Kind(models.TextChoices):
        EMAIL = "email", "Email"
        CALL = "call", "Call"
        MEETING = "meeting", "Meeting"
        NOTE = "note", "Note"

    class Direction(models.TextChoices):
        INBOUND = "inbound", "From the customer"
        OUTBOUND = "outbound", "From us"
        INTERNAL = "internal", "Internal"

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    # Copied from the conversation so an account's whole history is one index scan.
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="messages")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    direction = models.CharField(max_length=8, choices=Direction.choices)
    sender_contact = models.ForeignKey(
        Contact, on_delete=models.SET_NULL, null=True, blank=True, related_name="sent_messages"
    )
    sender_member = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="sent_messages",
    )
    occurred_at = models.DateTimeField(default=timezone.now)
    subject = models.CharField(max_length=300, blank=True)
    body_text = models.TextField(blank=True, help_text="What was actually said: the new text.")
    quoted_text = models.TextField(blank=True)
    body_html = models.TextField(blank=True, help_text="Sanitised HTML, for email.")
    # NULL, not "", for messages without one: the unique constraint then ignores them.
    message_id = models.CharField(max_length=998, null=True, blank=True)  # noqa: DJ001
    in_reply_to = models.CharField(max_length=998, blank=True)
    references = models.TextField(blank=True)
    # Why this is automated mail (auto-reply, list, bounce...), or "" when a person wrote it.
    automated_reason = models.CharField(max_length=100, blank=True)
    is_out_of_office = models.BooleanField(default=False)
    # Subject (A), new text (B), attachment names (C) and quoted text (D), in the organisation's
    # language: kept by conversations.search_index when messages are recorded.
    search_vector = SearchVectorField(null=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["organisation", "message_id"],
                condition=Q(message_id__isnull=False),
                name="message_id_unique_per_org",
            ),
        ]
        indexes: ClassVar = [
            models.Index(
                "organisation", "account", models.F("occurred_at").desc(), models.F("id").desc(),
                name="message_account_timeline",
            ),
            models.Index(
                "organisation", "conversation", "occurred_at", "id",
                name="message_conversation_ord",
            ),
            models.Index("organisation", "sender_contact", name="message_sender_contact"),
            # The search index, (organisation, search_vector), is made by migration 0008:
            # it needs btree_gin where the server has it.
            # Messages whose vector is still to be written (a sync's batch waits for its task
            # after commit): the sweep for lost tasks finds them here without reading the rest.
            models.Index(
                "organisation", "id", condition=Q(search_vector__isnull=True),
                name="message_unindexed",
            ),
        ]  # fmt: skip
        ordering: ClassVar = ["occurred_at", "id"]

    def __str__(self) -> str:
        return self.subject or f"{self.get_kind_display()} on {self.occurred_at:%d %b %Y}"

    @property
    def others_taking_part(self) -> list[Participant]:
        """Participants besides the sender (uses the prefetched participants); not the people
        a bounce names, who took no part in it."""
        return [
            p
            for p in self.participants.all()
            if not (p.member_id and p.member_id == self.sender_member_id)
            and not (p.contact_id and p.contact_id == self.sender_contact_id)
            and p.role != Participant.Role.BOUNCED
        ]

    @property
    def bounced_participants(self) -> list[Participant]:
        """Whose address a bounce says does not exist (uses the prefetched participants)."""
        return [p for p in self.participants.all() if p.role == Participant.Role.BOUNCED]

    @property
    def is_automated(self) -> bool:
        return bool(self.automated_reason)

    @property
    def is_logged_interaction(self) -> bool:
        return self.kind in {self.Kind.CALL, self.Kind.MEETING}


class Participant(TenantModel):
    """Who took part in a message: a contact, a member, or (for mail) a bare address."""

    class Role(models.TextChoices):
        FROM = "from", "From"
        TO = "to", "To"
        CC = "cc", "Cc"
        ATTENDEE = "attendee", "Took part"
        # Named by a bounce: mail to this address could not be delivered (it sent nothing).
        BOUNCED = "bounced", "Bounced"

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="participants")
    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, null=True, blank=True, related_name="participations"
    )
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="participations",
    )
    address = models.CharField(max_length=254, blank=True)
    role = models.CharField(max_length=8, choices=Role.choices, default=Role.ATTENDEE)

    class Meta:
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(contact__isnull=False) | Q(member__isnull=False) | ~Q(address=""),
                name="participant_is_someone",
            ),
        ]
        indexes: ClassVar = [
            models.Index(fields=["organisation", "message"], name="participant_org_message"),
            models.Index(fields=["organisation", "contact"], name="participant_org_contact"),
        ]


class Commitment(TenantModel):
    """A promise made in a conversation, by us or by them."""

    class OwedBy(models.TextChoices):
        US = "us", "We owe"
        THEM = "them", "They owe"

    class State(models.TextChoices):
        SUGGESTED = "suggested", "Suggested"  # found in a message's text, waiting for a member
        OPEN = "open", "Open"
        KEPT = "kept", "Kept"
        DROPPED = "dropped", "Dropped"
        NOT_A_PROMISE = "not_a_promise", "Not a promise"  # a rejected suggestion, kept as a label

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="commitments"
    )
    message = models.ForeignKey(
        Message, on_delete=models.SET_NULL, null=True, blank=True, related_name="commitments"
    )
    owed_by = models.CharField(max_length=4, choices=OwedBy.choices)
    text = models.CharField(max_length=500)
    due_on = models.DateField(null=True, blank=True)
    state = models.CharField(max_length=14, choices=State.choices, default=State.OPEN)
    # From due_on and the organisation's business hours: late after due_at, reminded at remind_at.
    due_at = models.DateTimeField(null=True, blank=True)
    remind_at = models.DateTimeField(null=True, blank=True)
    kept_at = models.DateTimeField(null=True, blank=True)
    kept_by_message = models.ForeignKey(
        Message, on_delete=models.SET_NULL, null=True, blank=True, related_name="kept_commitments"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes: ClassVar = [
            models.Index(
                fields=["organisation", "conversation", "state"], name="commitment_conv_state"
            ),
            models.Index(
                fields=["organisation", "due_on"],
                condition=Q(state="open"),
                name="commitment_open_due",
            ),
            models.Index(
                fields=["organisation", "remind_at"],
                condition=Q(state="open", owed_by="us"),
                name="commitment_our_reminders",
            ),
        ]

    def __str__(self) -> str:
        return self.text

    def set_deadlines(self, calendar: BusinessCalendar) -> None:
        """Late after the close of business on the due day; reminded one business day before."""
        if self.due_on is None:
            self.due_at = self.remind_at = None
        else:
            self.due_at = calendar.end_of_day(self.due_on)
            self.remind_at = calendar.add(self.due_at, -1)

    @property
    def is_overdue(self) -> bool:
        if self.state != self.State.OPEN or self.due_on is None:
            return False
        if self.due_at is not None:
            return self.due_at < timezone.now()
        return self.due_on < timezone.localdate()

    @property
    def kept_late(self) -> bool:
        return bool(self.kept_at and self.due_at and self.kept_at > self.due_at)
