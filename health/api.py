"""Relationship health over the API: each account's daily snapshots, newest first."""

from __future__ import annotations

from typing import Any

import django_filters
from drf_spectacular.utils import extend_schema_field
from rest_framework import mixins, serializers

from api.base import OrgViewSet
from health import model
from health.models import HealthSnapshot
from health.services import snapshot_health


class ComponentsSerializer(serializers.Serializer):
    mutuality = serializers.FloatField()
    interactivity = serializers.FloatField()
    continuity = serializers.FloatField()
    breadth = serializers.FloatField()
    responsiveness = serializers.FloatField()
    commitments = serializers.FloatField()
    recency = serializers.FloatField()


class SentenceSerializer(serializers.Serializer):
    component = serializers.CharField()
    value = serializers.FloatField()
    weight = serializers.FloatField()
    sentence = serializers.CharField()


class CapSerializer(serializers.Serializer):
    limit = serializers.IntegerField()
    reason = serializers.CharField()
    cause = serializers.CharField()


class ExplanationSerializer(serializers.Serializer):
    components = SentenceSerializer(many=True)
    caps = CapSerializer(many=True)


class HealthSnapshotSerializer(serializers.ModelSerializer):
    components = serializers.SerializerMethodField()
    explanation = serializers.SerializerMethodField(
        help_text="Why: a sentence per component and the caps. Null unless ?expand=explanation."
    )
    caps = CapSerializer(many=True, read_only=True)
    flags = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = HealthSnapshot
        fields = (
            "id", "account", "day", "score", "band", "components", "flags", "caps",
            "explanation", "computed_at",
        )  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(ComponentsSerializer)
    def get_components(self, snapshot: HealthSnapshot) -> dict[str, float]:
        return snapshot.components()

    @extend_schema_field(ExplanationSerializer(allow_null=True))
    def get_explanation(self, snapshot: HealthSnapshot) -> dict[str, Any] | None:
        if "explanation" not in self.context.get("expand", ()):
            return None
        health: model.Health = snapshot_health(snapshot)
        return {
            "components": [
                {"component": c.key, "value": c.value, "weight": c.weight, "sentence": c.sentence}
                for c in health.components
            ],
            "caps": [cap.as_json() for cap in health.caps],
        }


class HealthFilter(django_filters.FilterSet):
    account = django_filters.NumberFilter(field_name="account_id")
    band = django_filters.CharFilter()
    since = django_filters.DateFilter(field_name="day", lookup_expr="gte")
    until = django_filters.DateFilter(field_name="day", lookup_expr="lte")
    latest = django_filters.BooleanFilter(
        method="by_latest", help_text="true: only the latest day's snapshots."
    )

    class Meta:
        model = HealthSnapshot
        fields = ("account", "band", "since", "until", "latest")

    def by_latest(self, rows: Any, name: str, value: bool) -> Any:
        if not value:
            return rows
        # The organisation's latest day (the rows given are already the organisation's).
        day = self.queryset.order_by("-day").values_list("day", flat=True).first()
        return rows.filter(day=day)


class HealthViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, OrgViewSet):
    """Each account's health per day, as on the account page: score, band, components."""

    model = HealthSnapshot
    serializer_class = HealthSnapshotSerializer
    filterset_class = HealthFilter
    ordering_fields = ("day",)
    ordering = ("-day",)
    expandable = frozenset({"explanation"})
