from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from organisations.tenancy import TenantModel

# Addresses at these domains belong to people, not companies: never match an account by them.
FREE_MAIL_DOMAINS = frozenset(
    {
        "gmail.com", "googlemail.com", "yahoo.com", "yahoo.co.uk", "hotmail.com", "hotmail.co.uk",
        "outlook.com", "live.com", "msn.com", "icloud.com", "me.com", "mac.com", "aol.com",
        "gmx.com", "gmx.de", "gmx.net", "web.de", "proton.me", "protonmail.com", "yandex.com",
        "yandex.ru", "mail.ru", "qq.com", "163.com", "zoho.com", "fastmail.com", "hey.com",
    }
)  # fmt: skip


class Account(TenantModel):
    """A customer organisation we keep a relationship with."""

    name = models.CharField(max_length=200)
    website = models.URLField(blank=True)
    description = models.TextField(blank=True, help_text="What they do and why they matter to us.")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_accounts",
        help_text="The member who owns this relationship.",
    )
    created_at = models.DateTimeField(default=timezone.now)
    # Kept current by conversations.services whenever an interaction is recorded.
    last_interaction_at = models.DateTimeField(null=True, blank=True)
    # The account's own rhythm: median days between days we were in touch (last year).
    usual_gap_days = models.FloatField(null=True, blank=True)
    # How long they usually take to answer us: median days from our turn to their next one.
    usual_reply_days = models.FloatField(null=True, blank=True)
    search_vector = models.GeneratedField(
        expression=SearchVector("name", config="simple"),
        output_field=SearchVectorField(),
        db_persist=True,
    )

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(
                "organisation", Lower("name"), name="account_name_unique_per_org"
            ),
        ]
        indexes: ClassVar = [
            models.Index(
                "organisation", models.F("last_interaction_at").desc(nulls_last=True),
                name="account_last_interaction",
            ),
            models.Index("organisation", "owner", name="account_org_owner"),
            GinIndex(fields=["search_vector"], name="account_search"),
        ]  # fmt: skip

    def __str__(self) -> str:
        return self.name


class AccountDomain(TenantModel):
    """An email domain that identifies an account (acme.com -> Acme)."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="domains")
    domain = models.CharField(max_length=253)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["organisation", "domain"], name="account_domain_unique_per_org"
            ),
        ]

    def __str__(self) -> str:
        return self.domain
