"""Accounts and their email domains over the API (/api/v1/o/<slug>/accounts/, /domains/)."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Prefetch
from rest_framework import mixins, serializers

from accounts.forms import account_domains_clean, account_name_clean
from accounts.models import Account, AccountDomain
from accounts.services import account_save
from api.base import ExpandableField, MemberField, MemberSerializer, OrgViewSet, UtcDateTimeFilter
from contacts.models import Contact


class AccountContactSerializer(serializers.ModelSerializer):
    class Meta:
        model = Contact
        fields = ("id", "full_name", "title", "level", "buying_influence", "left_company_on")


class DomainListField(serializers.ListField):
    """Domains as plain names, read from the (prefetched) rows."""

    def to_representation(self, domains: Any) -> list[str]:
        return sorted(d.domain for d in domains.all())


class AccountSerializer(serializers.ModelSerializer):
    domains = DomainListField(
        child=serializers.CharField(max_length=253),
        required=False,
        help_text="Email domains of this company; mail from them is filed under it. "
        "Writing replaces the list.",
    )
    owner = MemberField(required=False, allow_null=True, help_text="A member's user id.")
    owner_detail = MemberSerializer(source="owner", read_only=True, allow_null=True)
    contacts = ExpandableField(
        AccountContactSerializer(many=True),
        help_text="The people at the account: null unless ?expand=contacts.",
    )

    class Meta:
        model = Account
        fields = (
            "id",
            "name",
            "website",
            "description",
            "owner",
            "owner_detail",
            "domains",
            "created_at",
            "last_interaction_at",
            "usual_gap_days",
            "usual_reply_days",
            "contacts",
        )
        read_only_fields = (
            "created_at",
            "last_interaction_at",
            "usual_gap_days",
            "usual_reply_days",
        )

    def validate_name(self, name: str) -> str:
        return account_name_clean(self.context["org"], name, self.instance)

    def validate_domains(self, domains: list[str]) -> list[str]:
        return account_domains_clean(self.context["org"], domains, self.instance)

    def create(self, validated: dict[str, Any]) -> Account:
        domains = validated.pop("domains", [])
        return account_save(org=self.context["org"], domains=domains, **validated)

    def update(self, account: Account, validated: dict[str, Any]) -> Account:
        domains = validated.pop("domains", None)
        if domains is None:
            domains = list(account.domains.values_list("domain", flat=True))
        return account_save(org=self.context["org"], account=account, domains=domains, **validated)


class AccountFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(lookup_expr="icontains", help_text="Part of the name.")
    owner = django_filters.NumberFilter(field_name="owner_id", help_text="A member's user id.")
    domain = django_filters.CharFilter(
        field_name="domains__domain", lookup_expr="iexact", help_text="An email domain."
    )
    active_since = UtcDateTimeFilter(
        field_name="last_interaction_at", lookup_expr="gte", help_text="In touch since then."
    )

    class Meta:
        model = Account
        fields = ("name", "owner", "domain", "active_since")


class AccountViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    OrgViewSet,
):
    """The organisation's customer accounts. Any member may read, add and change them."""

    model = Account
    serializer_class = AccountSerializer
    filterset_class = AccountFilter
    ordering_fields = ("name", "created_at")
    ordering = ("name",)
    expandable = frozenset({"contacts"})

    def rows(self) -> Any:
        rows = (
            Account.objects.for_org(self.org)
            .select_related("owner")
            .prefetch_related(Prefetch("domains", queryset=AccountDomain.objects.for_org(self.org)))
        )
        if "contacts" in self.expand:
            rows = rows.prefetch_related(
                Prefetch(
                    "contacts", queryset=Contact.objects.for_org(self.org).order_by("full_name")
                )
            )
        return rows


class DomainSerializer(serializers.ModelSerializer):
    class Meta:
        model = AccountDomain
        fields = ("id", "domain", "account")


class DomainFilter(django_filters.FilterSet):
    domain = django_filters.CharFilter(lookup_expr="iexact")
    account = django_filters.NumberFilter(field_name="account_id")

    class Meta:
        model = AccountDomain
        fields = ("domain", "account")


class DomainViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, OrgViewSet):
    """Which account an email domain belongs to. Change them through the account's `domains`."""

    model = AccountDomain
    serializer_class = DomainSerializer
    filterset_class = DomainFilter
    ordering_fields = ("domain",)
    ordering = ("domain",)
