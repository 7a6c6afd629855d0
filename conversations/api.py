"""Conversations, their messages and the promises made in them, over the API.

Messages are read here, whatever their kind; only calls, meetings and notes can be created
(email is sent through the web composer or arrives by sync). Writes go through the same
services as the web UI, so states, follow-ups and health move the same way.
"""

from __future__ import annotations

import datetime
from typing import Any

import django_filters
from django.db.models import Prefetch
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import Account
from api.base import (
    ExpandableField,
    MemberField,
    MemberSerializer,
    OrgRelatedField,
    OrgViewSet,
    UtcDateTimeFilter,
)
from contacts.models import Contact
from conversations.models import Commitment, Conversation, Message, Participant
from conversations.services import (
    RecordError,
    commitment_add,
    commitment_set_state,
    interaction_log,
)
from mail.models import Attachment

# --- Messages ---


class ParticipantSerializer(serializers.ModelSerializer):
    class Meta:
        model = Participant
        fields = ("role", "contact", "member", "address")


class AttachmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Attachment
        fields = ("id", "filename", "content_type", "size", "is_inline", "too_large")


class MessageSerializer(serializers.ModelSerializer):
    participants = ParticipantSerializer(many=True, read_only=True)
    attachments = AttachmentSerializer(many=True, read_only=True)
    is_automated = serializers.BooleanField(read_only=True)

    class Meta:
        model = Message
        fields = (
            "id",
            "conversation",
            "account",
            "kind",
            "direction",
            "occurred_at",
            "subject",
            "body_text",
            "quoted_text",
            "body_html",
            "sender_contact",
            "sender_member",
            "participants",
            "attachments",
            "is_automated",
            "automated_reason",
            "is_out_of_office",
            "message_id",
            "in_reply_to",
            "created_at",
        )
        read_only_fields = fields


def _messages(org: Any) -> Any:
    return (
        Message.objects.for_org(org)
        .defer("search_vector")
        .prefetch_related(
            Prefetch("participants", queryset=Participant.objects.for_org(org).order_by("id")),
            Prefetch(
                "attachments",
                queryset=Attachment.objects.for_org(org).defer("content").order_by("position"),
            ),
        )
    )


class LoggedInteractionSerializer(serializers.Serializer):
    """A call, meeting or note to record, like the web UI's "Log" form."""

    account = OrgRelatedField(Account)
    conversation = OrgRelatedField(
        Conversation,
        required=False,
        allow_null=True,
        help_text="One of the account's conversations; leave out to start a new one.",
    )
    kind = serializers.ChoiceField(
        choices=[Message.Kind.CALL, Message.Kind.MEETING, Message.Kind.NOTE]
    )
    initiated_by = serializers.ChoiceField(
        choices=[Message.Direction.OUTBOUND, Message.Direction.INBOUND],
        default=Message.Direction.OUTBOUND,
        help_text="Who reached out (calls and meetings): outbound is us.",
    )
    subject = serializers.CharField(max_length=300, required=False, allow_blank=True)
    body = serializers.CharField(help_text="What was actually said.")
    occurred_at = serializers.DateTimeField(required=False, help_text="Defaults to now.")
    contacts = OrgRelatedField(Contact, many=True, required=False, help_text="Who took part.")
    we_owe = serializers.CharField(max_length=500, required=False, allow_blank=True)
    we_owe_due = serializers.DateField(required=False, allow_null=True)
    they_owe = serializers.CharField(max_length=500, required=False, allow_blank=True)
    they_owe_due = serializers.DateField(required=False, allow_null=True)

    def validate_occurred_at(self, occurred_at: Any) -> Any:
        if occurred_at > timezone.now() + datetime.timedelta(hours=1):
            raise serializers.ValidationError("An interaction that is logged has already happened.")
        return occurred_at

    def validate_body(self, body: str) -> str:
        if not body.strip():
            raise serializers.ValidationError("Say what was discussed.")
        return body

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        errors = {}
        # Which account the conversation and people belong to, `interaction_log` checks.
        for side in ("we_owe", "they_owe"):
            if data.get(f"{side}_due") and not (data.get(side) or "").strip():
                errors[side] = ["Say what was promised, or leave out the date."]
        if errors:
            raise serializers.ValidationError(errors)
        return data


class MessageFilter(django_filters.FilterSet):
    conversation = django_filters.NumberFilter(field_name="conversation_id")
    account = django_filters.NumberFilter(field_name="account_id")
    sender_contact = django_filters.NumberFilter(field_name="sender_contact_id")
    kind = django_filters.ChoiceFilter(choices=Message.Kind.choices)
    direction = django_filters.ChoiceFilter(choices=Message.Direction.choices)
    since = UtcDateTimeFilter(field_name="occurred_at", lookup_expr="gte")
    until = UtcDateTimeFilter(field_name="occurred_at", lookup_expr="lt")
    automated = django_filters.BooleanFilter(method="by_automated")

    class Meta:
        model = Message
        fields = (
            "conversation", "account", "sender_contact", "kind", "direction", "since", "until",
        )  # fmt: skip

    def by_automated(self, rows: Any, name: str, value: bool) -> Any:
        return rows.exclude(automated_reason="") if value else rows.filter(automated_reason="")


class MessageViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, OrgViewSet
):
    """Everything said with customers: emails, calls, meetings and notes, newest first."""

    model = Message
    serializer_class = MessageSerializer
    filterset_class = MessageFilter
    ordering_fields = ("occurred_at",)
    ordering = ("-occurred_at",)

    def rows(self) -> Any:
        return _messages(self.org)

    @extend_schema(request=LoggedInteractionSerializer, responses={201: MessageSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Log a call, meeting or note, who took part and what was promised on either side."""
        given = LoggedInteractionSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        given.is_valid(raise_exception=True)
        data = given.validated_data
        try:
            message = interaction_log(
                org=self.org,
                author=self.member,
                account=data["account"],
                conversation=data.get("conversation"),
                kind=data["kind"],
                initiated_by=data["initiated_by"],
                subject=data.get("subject", ""),
                body=data["body"],
                occurred_at=data.get("occurred_at") or timezone.now(),
                contacts=data.get("contacts", []),
                we_owe=data.get("we_owe", ""),
                we_owe_due=data.get("we_owe_due"),
                they_owe=data.get("they_owe", ""),
                they_owe_due=data.get("they_owe_due"),
            )
        except RecordError as error:
            raise serializers.ValidationError(str(error)) from error
        created = self.rows().get(pk=message.pk)
        return Response(self.get_serializer(created).data, status=status.HTTP_201_CREATED)


# --- Commitments ---


class CommitmentSerializer(serializers.ModelSerializer):
    conversation = OrgRelatedField(Conversation)
    message = OrgRelatedField(
        Message, required=False, allow_null=True, help_text="Where the promise was made."
    )
    is_overdue = serializers.BooleanField(read_only=True)

    class Meta:
        model = Commitment
        fields = (
            "id",
            "conversation",
            "message",
            "owed_by",
            "text",
            "due_on",
            "state",
            "due_at",
            "kept_at",
            "kept_by_message",
            "is_overdue",
            "created_by",
            "created_at",
        )
        read_only_fields = (
            "state", "due_at", "kept_at", "kept_by_message", "created_by", "created_at",
        )  # fmt: skip

    def create(self, validated: dict[str, Any]) -> Commitment:
        # What was promised, and where, `commitment_add` checks (as for the web UI).
        by = self.context["membership"].user
        try:
            return commitment_add(org=self.context["org"], by=by, **validated)
        except RecordError as error:
            raise serializers.ValidationError(str(error)) from error


class CommitmentStateSerializer(serializers.Serializer):
    state = serializers.ChoiceField(
        choices=[s for s in Commitment.State.values if s != Commitment.State.SUGGESTED],
        help_text="open confirms a suggestion or reopens; kept, dropped, not_a_promise.",
    )
    kept_by_message = OrgRelatedField(
        Message, required=False, allow_null=True,
        help_text="When kept: the message of this conversation that kept it.",
    )  # fmt: skip


class CommitmentFilter(django_filters.FilterSet):
    conversation = django_filters.NumberFilter(field_name="conversation_id")
    account = django_filters.NumberFilter(field_name="conversation__account_id")
    state = django_filters.ChoiceFilter(choices=Commitment.State.choices)
    owed_by = django_filters.ChoiceFilter(choices=Commitment.OwedBy.choices)
    due_before = django_filters.DateFilter(field_name="due_on", lookup_expr="lte")
    due_after = django_filters.DateFilter(field_name="due_on", lookup_expr="gte")

    class Meta:
        model = Commitment
        fields = ("conversation", "account", "state", "owed_by", "due_before", "due_after")


class CommitmentViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, OrgViewSet
):
    """Promises made on either side, including suggestions found in email text."""

    model = Commitment
    serializer_class = CommitmentSerializer
    filterset_class = CommitmentFilter
    ordering_fields = ("created_at",)
    ordering = ("-created_at",)

    @extend_schema(request=CommitmentStateSerializer, responses={200: CommitmentSerializer})
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Confirm or reject a suggestion; mark a promise kept or dropped; reopen it."""
        commitment = self.get_object()
        given = CommitmentStateSerializer(data=request.data, context=self.get_serializer_context())
        given.is_valid(raise_exception=True)
        try:
            commitment_set_state(
                org=self.org,
                commitment=commitment,
                state=given.validated_data["state"],
                kept_by_message=given.validated_data.get("kept_by_message"),
            )
        except RecordError as error:
            raise serializers.ValidationError(str(error)) from error
        return Response(self.get_serializer(self.rows().get(pk=commitment.pk)).data)

    def rows(self) -> Any:
        return Commitment.objects.for_org(self.org).select_related("conversation")


# --- Conversations ---


class ConversationSerializer(serializers.ModelSerializer):
    owner = MemberField(
        allow_null=True, help_text="A member's user id; the only field that can be changed."
    )
    owner_detail = MemberSerializer(source="owner", read_only=True, allow_null=True)
    messages = ExpandableField(
        MessageSerializer(many=True), help_text="Null unless ?expand=messages."
    )
    commitments = ExpandableField(
        CommitmentSerializer(many=True), help_text="Null unless ?expand=commitments."
    )

    class Meta:
        model = Conversation
        fields = (
            "id",
            "account",
            "subject",
            "owner",
            "owner_detail",
            "state",
            "state_since",
            "reply_due_at",
            "nudge_due_at",
            "started_at",
            "last_activity_at",
            "last_inbound_at",
            "last_outbound_at",
            "message_count",
            "messages",
            "commitments",
        )
        read_only_fields = tuple(f for f in fields if f not in {"owner"})

    def validate_owner(self, owner: Any) -> Any:
        # Null reads as "nobody yet", but giving a conversation to nobody would leave its open
        # follow-ups nobody's: the web UI's reassign form refuses it too.
        if owner is None:
            raise serializers.ValidationError("Choose a member to give it to.")
        return owner


class ConversationFilter(django_filters.FilterSet):
    account = django_filters.NumberFilter(field_name="account_id")
    owner = django_filters.NumberFilter(field_name="owner_id")
    state = django_filters.ChoiceFilter(choices=Conversation.State.choices)
    active_since = UtcDateTimeFilter(field_name="last_activity_at", lookup_expr="gte")

    class Meta:
        model = Conversation
        fields = ("account", "owner", "state", "active_since")


class ConversationViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin, OrgViewSet
):
    """Threads with customer accounts, most recently active first, and whose turn it is."""

    model = Conversation
    serializer_class = ConversationSerializer
    filterset_class = ConversationFilter
    ordering_fields = ("last_activity_at", "started_at")
    ordering = ("-last_activity_at",)
    expandable = frozenset({"messages", "commitments"})

    def rows(self) -> Any:
        rows = Conversation.objects.for_org(self.org).select_related("owner")
        if "messages" in self.expand:
            rows = rows.prefetch_related(
                Prefetch("messages", queryset=_messages(self.org).order_by("occurred_at", "id"))
            )
        if "commitments" in self.expand:
            rows = rows.prefetch_related(
                Prefetch(
                    "commitments",
                    queryset=Commitment.objects.for_org(self.org).order_by("created_at", "id"),
                )
            )
        return rows

    def perform_update(self, serializer: Any) -> None:
        """Reassign: managers, or the member who owns the conversation now."""
        from followups.services import conversation_reassign

        conversation = serializer.instance
        if not (self.is_manager or conversation.owner_id == self.member.pk):
            raise exceptions.PermissionDenied(
                "Only managers and the conversation's owner can reassign it."
            )
        if "owner" in serializer.validated_data:
            conversation_reassign(
                org=self.org, conversation=conversation, owner=serializer.validated_data["owner"]
            )
