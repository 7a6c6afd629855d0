from __future__ import annotations

from django.db.models import Prefetch, Q, QuerySet

from accounts.models import Account
from contacts.models import Contact
from conversations.models import (
    Commitment,
    Conversation,
    ConversationLink,
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
    return _with_people(
        Message.objects.for_org(org)
        .filter(conversation=conversation)
        .order_by("occurred_at", "id"),
        org,
    ).prefetch_related(Prefetch("attachments", queryset=attachments, to_attr="attachment_list"))


def related_conversations(
    *, org: Organisation, conversation: Conversation
) -> QuerySet[Conversation]:
    links = ConversationLink.objects.for_org(org)
    linked = (
        links.filter(from_conversation=conversation)
        .values("to_conversation_id")
        .union(links.filter(to_conversation=conversation).values("from_conversation_id"))
    )
    return Conversation.objects.for_org(org).filter(pk__in=linked).order_by("-last_activity_at")


def open_commitments(
    *,
    org: Organisation,
    account: Account | None = None,
    conversation: Conversation | None = None,
    owner: User | None = None,
) -> QuerySet[Commitment]:
    commitments = Commitment.objects.for_org(org).filter(state=Commitment.State.OPEN)
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
