"""People at customer accounts and their addresses over the API (/api/v1/o/<slug>/contacts/)."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Prefetch, Q
from rest_framework import mixins, serializers

from accounts.models import Account
from api.base import OrgRelatedField, OrgViewSet
from contacts.forms import contact_emails_clean, contact_phone_clean
from contacts.models import Contact, ContactAddress, normalise_address
from contacts.services import contact_save


class AddressSerializer(serializers.ModelSerializer):
    class Meta:
        model = ContactAddress
        fields = ("kind", "value")


class ContactSerializer(serializers.ModelSerializer):
    account = OrgRelatedField(Account, help_text="The account's id.")
    addresses = AddressSerializer(many=True, read_only=True)
    emails = serializers.ListField(
        child=serializers.CharField(max_length=254),
        required=False,
        write_only=True,
        help_text="Email addresses; mail from them is filed under this person. "
        "Writing replaces them.",
    )
    phone = serializers.CharField(
        max_length=60, required=False, allow_blank=True, write_only=True,
        help_text="Writing replaces the phone number.",
    )  # fmt: skip

    class Meta:
        model = Contact
        fields = (
            "id",
            "account",
            "full_name",
            "title",
            "level",
            "buying_influence",
            "notes",
            "left_company_on",
            "addresses",
            "emails",
            "phone",
            "last_exchange_at",
            "usual_gap_days",
            "created_at",
        )
        read_only_fields = ("last_exchange_at", "usual_gap_days", "created_at")

    def validate_emails(self, emails: list[str]) -> list[str]:
        return contact_emails_clean(self.context["org"], emails, self.instance)

    def validate_phone(self, phone: str) -> str:
        return contact_phone_clean(self.context["org"], phone, self.instance)

    def create(self, validated: dict[str, Any]) -> Contact:
        return contact_save(
            org=self.context["org"],
            emails=validated.pop("emails", []),
            phone=validated.pop("phone", ""),
            **validated,
        )

    def update(self, contact: Contact, validated: dict[str, Any]) -> Contact:
        current = list(contact.addresses.all())
        emails = validated.pop("emails", None)
        if emails is None:
            emails = [a.value for a in current if a.kind == ContactAddress.Kind.EMAIL]
        phone = validated.pop("phone", None)
        if phone is None:
            phone = next((a.value for a in current if a.kind == ContactAddress.Kind.PHONE), "")
        contact = contact_save(
            org=self.context["org"], contact=contact, emails=emails, phone=phone, **validated
        )
        # Read the new addresses back rather than the prefetched ones.
        return (
            Contact.objects.for_org(self.context["org"])
            .prefetch_related("addresses")
            .get(pk=contact.pk)
        )


class ContactFilter(django_filters.FilterSet):
    account = django_filters.NumberFilter(field_name="account_id")
    name = django_filters.CharFilter(field_name="full_name", lookup_expr="icontains")
    email = django_filters.CharFilter(
        method="by_email", help_text="An email address, matched like incoming mail is."
    )
    level = django_filters.ChoiceFilter(choices=Contact._meta.get_field("level").choices)
    buying_influence = django_filters.ChoiceFilter(
        choices=Contact._meta.get_field("buying_influence").choices
    )
    current = django_filters.BooleanFilter(
        method="by_current", help_text="true: still at the account; false: has left."
    )

    class Meta:
        model = Contact
        fields = ("account", "name", "email", "level", "buying_influence", "current")

    def by_email(self, rows: Any, name: str, value: str) -> Any:
        normalised = normalise_address(ContactAddress.Kind.EMAIL, value)
        return rows.filter(
            addresses__kind=ContactAddress.Kind.EMAIL, addresses__normalised=normalised
        )

    def by_current(self, rows: Any, name: str, value: bool) -> Any:
        return rows.filter(Q(left_company_on__isnull=value))


class ContactViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    OrgViewSet,
):
    """People at customer accounts, with their email addresses and phone number."""

    model = Contact
    serializer_class = ContactSerializer
    filterset_class = ContactFilter
    ordering_fields = ("full_name", "created_at")
    ordering = ("full_name",)

    def rows(self) -> Any:
        return Contact.objects.for_org(self.org).prefetch_related(
            Prefetch("addresses", queryset=ContactAddress.objects.for_org(self.org).order_by("id"))
        )
