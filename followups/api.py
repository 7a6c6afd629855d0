"""Follow-ups over the API: a member's queue, snoozing and answering items."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Q
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from api.base import OrgViewSet
from conversations.services import RecordError
from followups.models import FollowUp
from followups.services import followup_resolve, followup_snooze
from threadline.params import whole_number


class FollowUpSerializer(serializers.ModelSerializer):
    class Meta:
        model = FollowUp
        fields = (
            "id",
            "reason",
            "priority",
            "conversation",
            "account",
            "commitment",
            "contact",
            "owner",
            "trigger_at",
            "due_at",
            "opened_at",
            "snoozed_until",
            "resolved_at",
            "resolution",
            "resolved_by",
        )
        read_only_fields = fields


class SnoozeSerializer(serializers.Serializer):
    until = serializers.DateTimeField(help_text="When the item comes back; in the future.")

    def validate_until(self, until: Any) -> Any:
        if until <= timezone.now():
            raise serializers.ValidationError("Snooze until a moment in the future.")
        return until


class ResolveSerializer(serializers.Serializer):
    resolution = serializers.ChoiceField(
        choices=[
            FollowUp.Resolution.DONE,
            FollowUp.Resolution.NO_REPLY_NEEDED,
            FollowUp.Resolution.NOT_A_PROMISE,
        ],
        default=FollowUp.Resolution.DONE,
        help_text="done; no_reply_needed for a waiting item; not_a_promise for a promise.",
    )


class FollowUpFilter(django_filters.FilterSet):
    STATUSES = (
        ("open", "Open and not snoozed: in front of its owner now"),
        ("snoozed", "Open but snoozed"),
        ("resolved", "Resolved"),
        ("all", "All"),
    )
    status = django_filters.ChoiceFilter(
        choices=STATUSES, method="by_status", empty_label=None, help_text="Default: open."
    )
    reason = django_filters.ChoiceFilter(choices=FollowUp.Reason.choices)
    account = django_filters.NumberFilter(field_name="account_id")
    conversation = django_filters.NumberFilter(field_name="conversation_id")

    class Meta:
        model = FollowUp
        fields = ("status", "reason", "account", "conversation")

    def by_status(self, rows: Any, name: str, value: str) -> Any:
        now = timezone.now()
        awake = Q(snoozed_until__isnull=True) | Q(snoozed_until__lte=now)
        if value == "snoozed":
            return rows.filter(resolved_at=None, snoozed_until__gt=now)
        if value == "resolved":
            return rows.exclude(resolved_at=None)
        if value == "all":
            return rows
        return rows.filter(awake, resolved_at=None)

    @property
    def qs(self) -> Any:
        rows = super().qs
        if not self.form.cleaned_data.get("status"):
            rows = self.by_status(rows, "status", "open")
        return rows


@extend_schema(
    parameters=[
        OpenApiParameter(
            "owner",
            int,
            description="A member's user id (managers: anyone's; `all` for everyone's). "
            "Default: your own.",
        )
    ]
)
class FollowUpViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, OrgViewSet):
    """What needs doing: customers waiting, promises due, accounts going quiet.

    Your own items; managers and admins may read and answer anyone's.
    """

    model = FollowUp
    serializer_class = FollowUpSerializer
    filterset_class = FollowUpFilter
    ordering_fields = ("due_at", "opened_at", "priority")
    ordering = ("due_at",)

    def rows(self) -> Any:
        rows = FollowUp.objects.for_org(self.org)
        if not self.is_manager:
            return rows.filter(owner=self.member)
        if self.action != "list":
            return rows
        owner = self.request.query_params.get("owner", "")
        if owner == "all":
            return rows
        if owner:
            owner_id = whole_number(owner)
            if owner_id is None:
                raise serializers.ValidationError({"owner": ["A user id, or all."]})
            return rows.filter(owner_id=owner_id)
        return rows.filter(owner=self.member)

    def _open_item(self) -> FollowUp:
        followup = self.get_object()
        if followup.resolved_at is not None:
            raise serializers.ValidationError("This follow-up is already resolved.")
        return followup

    @extend_schema(request=SnoozeSerializer, responses={200: FollowUpSerializer})
    @action(detail=True, methods=["post"])
    def snooze(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Hide the item until a moment; it comes back by itself then."""
        followup = self._open_item()
        given = SnoozeSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        followup_snooze(
            org=self.org, followup=followup, until=given.validated_data["until"], by=self.member
        )
        return Response(FollowUpSerializer(self.rows().get(pk=followup.pk)).data)

    @extend_schema(request=ResolveSerializer, responses={200: FollowUpSerializer})
    @action(detail=True, methods=["post"])
    def resolve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Mark the item done (or: no reply needed, not a promise); the record agrees."""
        followup = self._open_item()
        given = ResolveSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        try:
            followup_resolve(
                org=self.org,
                followup=followup,
                resolution=given.validated_data["resolution"],
                by=self.member,
            )
        except RecordError as error:
            raise serializers.ValidationError({"resolution": [str(error)]}) from error
        return Response(FollowUpSerializer(self.rows().get(pk=followup.pk)).data)
