from __future__ import annotations

from django.db.models import Prefetch, Q, QuerySet

from accounts.models import Account
from contacts.models import Contact
from conversations.models import (
    Commitment,
    Conversation,
    ConversationLink,
    MergedConversation,
    Message,
    Participant,
)
from mail.models import Attachment
from organisations.models import Organisation, User


def _with_people(messages: QuerySet[Message], org: Organisation) -> QuerySet[Message]:
    return messages.select_related(
        "conversation", "sender_contact", "sender_member"
    ).prefetch_related(
        Prefetch(
            "participants",
            queryset=Participant.objects.for_org(org).select_related("contact", "member"),
        ),
        Prefetch("commitments", queryset=Commitment.objects.for_org(org).order_by("pk")),
    )


def account_timeline(*, org: Organisation, account: Account) -> QuerySet[Message]:
    """Every message of every conversation with this account, newest first."""
    return _with_people(
        Message.objects.for_org(org).filter(account=account).order_by("-occurred_at", "-id"), org
    )


def contact_timeline(*, org: Organisation, contact: Contact) -> QuerySet[Message]:
    """Messages this person sent or took part in, newest first."""
    took_part = Participant.objects.for_org(org).filter(contact=contact).values("message_id")
    return _with_people(
        Message.objects.for_org(org)
        .filter(Q(sender_contact=contact) | Q(pk__in=took_part))
        .order_by("-occurred_at", "-id"),
        org,
    )


def conversation_messages(*, org: Organisation, conversation: Conversation) -> QuerySet[Message]:
    """The thread in order, with each email's attachments (without their bytes) as
    `attachment_list`."""
    attachments = Attachment.objects.for_org(org).defer("content").order_by("position")
    return (
        _with_people(
            Message.objects.for_org(org)
            .filter(conversation=conversation)
            .order_by("occurred_at", "id"),
            org,
        )
        .prefetch_related(Prefetch("attachments", queryset=attachments, to_attr="attachment_list"))
        .select_related("outbound")
        .defer("outbound__raw")
    )  # how an email we wrote is getting out


def messages_after(*, org: Organisation, message: Message) -> QuerySet[Message]:
    """The messages after this one in its conversation, in the order the page shows them."""
    return (
        Message.objects.for_org(org)
        .filter(conversation_id=message.conversation_id)
        .filter(
            Q(occurred_at__gt=message.occurred_at)
            | Q(occurred_at=message.occurred_at, pk__gt=message.pk)
        )
    )


def related_conversations(
    *, org: Organisation, conversation: Conversation
) -> QuerySet[Conversation]:
    """Linked conversations, each with `continues_this`: it carries this one on (a split's
    later part) rather than coming before it."""
    links = ConversationLink.objects.for_org(org)
    later = links.filter(from_conversation=conversation).values("to_conversation_id")
    earlier = links.filter(to_conversation=conversation).values("from_conversation_id")
    return (
        Conversation.objects.for_org(org)
        .filter(Q(pk__in=later) | Q(pk__in=earlier))
        .annotate(continues_this=Q(pk__in=later))
        .order_by("-last_activity_at")
    )


def conversation_merged_into(*, org: Organisation, conversation_id: int) -> int | None:
    """Where a conversation that was merged away now lives, if it was."""
    return (
        MergedConversation.objects.for_org(org)
        .filter(merged_id=conversation_id)
        .values_list("into_id", flat=True)
        .first()
    )


def open_commitments(
    *,
    org: Organisation,
    account: Account | None = None,
    conversation: Conversation | None = None,
    owner: User | None = None,
    with_suggestions: bool = False,
) -> QuerySet[Commitment]:
    """Open promises (and, where asked, ones found in the text awaiting a member's word)."""
    states = [Commitment.State.OPEN]
    if with_suggestions:
        states.append(Commitment.State.SUGGESTED)
    commitments = Commitment.objects.for_org(org).filter(state__in=states)
    if account is not None:
        commitments = commitments.filter(conversation__account=account)
    if conversation is not None:
        commitments = commitments.filter(conversation=conversation)
    if owner is not None:
        commitments = commitments.filter(conversation__owner=owner)
    return commitments.select_related("conversation", "conversation__account").order_by(
        "due_on", "pk"
    )


def recent_messages(*, org: Organisation, limit: int = 15) -> QuerySet[Message]:
    return (
        Message.objects.for_org(org)
        .select_related("conversation", "account", "sender_member", "sender_contact")
        .order_by("-occurred_at", "-id")[:limit]
    )


def account_waiting_conversations(*, org: Organisation, account: Account) -> QuerySet[Conversation]:
    """The account's conversations where someone is waiting, with their open follow-ups."""
    from followups.models import FollowUp

    return (
        Conversation.objects.for_org(org)
        .filter(
            account=account,
            state__in=[Conversation.State.AWAITING_US, Conversation.State.AWAITING_THEM],
        )
        .select_related("owner")
        .prefetch_related(
            Prefetch(
                "followups",
                queryset=FollowUp.objects.for_org(org).filter(resolved_at=None),
                to_attr="open_followups",
            )
        )
        .order_by("state", "state_since")
    )
