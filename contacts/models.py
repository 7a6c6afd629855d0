from __future__ import annotations

from typing import ClassVar

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import models
from django.utils import timezone

from accounts.models import Account
from organisations.tenancy import TenantModel


class Level(models.TextChoices):
    """Where a person sits at their company: a relationship spans many levels."""

    EXECUTIVE = "executive", "Executive"
    SENIOR = "senior", "Senior management"
    MANAGER = "manager", "Manager"
    STAFF = "staff", "Individual contributor"
    UNKNOWN = "unknown", "Unknown"


class BuyingInfluence(models.TextChoices):
    DECISION_MAKER = "decision_maker", "Decision maker"
    INFLUENCER = "influencer", "Influencer"
    CHAMPION = "champion", "Champion"
    USER = "user", "User"
    BLOCKER = "blocker", "Blocker"
    NONE = "none", "None"


class Contact(TenantModel):
    """A person at a customer account."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="contacts")
    full_name = models.CharField(max_length=200)
    title = models.CharField(max_length=200, blank=True, help_text="Job title, e.g. Head of Ops.")
    level = models.CharField(
        "role at the account", max_length=16, choices=Level.choices, default=Level.UNKNOWN
    )
    buying_influence = models.CharField(
        max_length=16, choices=BuyingInfluence.choices, default=BuyingInfluence.NONE
    )
    notes = models.TextField(blank=True)
    left_company_on = models.DateField(
        null=True, blank=True, help_text="Set when this person no longer works there."
    )
    # This person's own rhythm (refreshed hourly): when we last had a two-way word with them,
    # and the median days between days we were in touch.
    last_exchange_at = models.DateTimeField(null=True, blank=True)
    usual_gap_days = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    search_vector = models.GeneratedField(
        expression=SearchVector("full_name", "title", config="simple"),
        output_field=SearchVectorField(),
        db_persist=True,
    )

    class Meta:
        indexes: ClassVar = [
            models.Index(
                fields=["organisation", "account", "full_name"], name="contact_org_account"
            ),
            GinIndex(fields=["search_vector"], name="contact_search"),
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def primary_email(self) -> str:
        # Uses the prefetched addresses when a list view prefetched them.
        for address in self.addresses.all():
            if address.kind == ContactAddress.Kind.EMAIL:
                return address.value
        return ""


class ContactAddress(TenantModel):
    """An email address or phone number of a contact. One address belongs to one person."""

    class Kind(models.TextChoices):
        EMAIL = "email", "Email"
        PHONE = "phone", "Phone"

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="addresses")
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.EMAIL)
    value = models.CharField(max_length=254, help_text="As entered.")
    # Lower-cased email without +tag, or digits-only phone: what incoming mail is matched on.
    normalised = models.CharField(max_length=254, editable=False)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["organisation", "kind", "normalised"], name="contact_address_unique_per_org"
            ),
        ]
        indexes: ClassVar = [
            models.Index(fields=["organisation", "contact"], name="contact_address_contact"),
            # Addresses found as you type: a prefix match on the normalised address.
            models.Index(
                fields=["organisation", "normalised"],
                name="contact_address_prefix",
                opclasses=["int8_ops", "varchar_pattern_ops"],
            ),
        ]

    def __str__(self) -> str:
        return self.value

    def save(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        self.normalised = normalise_address(self.kind, self.value)
        super().save(*args, **kwargs)


def normalise_address(kind: str, value: str) -> str:
    value = value.strip()
    if kind == ContactAddress.Kind.PHONE:
        digits = "".join(ch for ch in value if ch.isdigit())
        return ("+" if value.startswith("+") else "") + digits
    local, _, domain = value.lower().rpartition("@")
    if not local:
        return value.lower()
    return f"{local.split('+', 1)[0]}@{domain}"
