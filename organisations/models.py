from __future__ import annotations

import datetime
import decimal
from typing import Any, ClassVar

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from organisations.tenancy import TenantModel


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields: Any) -> User:
        if not email:
            raise ValueError("An email address is required")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields: Any) -> User:
        fields.setdefault("is_staff", True)
        fields.setdefault("is_superuser", True)
        return self.create_user(email, password, **fields)

    def get_by_natural_key(self, username: str | None) -> User:
        return self.get(email__iexact=username)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who logs in. Email is the login; one person may belong to many organisations."""

    email = models.EmailField(unique=True)
    full_name = models.CharField(max_length=200, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False, help_text="May use the site admin.")
    date_joined = models.DateTimeField(default=timezone.now)

    objects: ClassVar[UserManager] = UserManager()  # type: ignore[assignment]

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(Lower("email"), name="user_email_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.full_name or self.email

    @property
    def display_name(self) -> str:
        return self.full_name or self.email.split("@")[0]

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.email = self.email.strip().lower()
        super().save(*args, **kwargs)


class Organisation(models.Model):
    """A tenant: a company using Threadline to keep its customer relationships."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=60, unique=True)
    time_zone = models.CharField(max_length=64, default="UTC")
    created_at = models.DateTimeField(default=timezone.now)
    # Business hours: how ages and targets are counted ("waiting 2 business days").
    workday_starts = models.TimeField(default=datetime.time(9, 0))
    workday_ends = models.TimeField(default=datetime.time(17, 0))
    workdays = models.CharField(
        max_length=7, default="12345", help_text="ISO weekdays worked: 1 is Monday, 7 Sunday."
    )
    # PostgreSQL text search configuration for what people wrote (names always use "simple").
    search_language = models.CharField(
        max_length=20,
        choices=[
            (c, c.title())
            for c in (
                "english",
                "simple",
                "danish",
                "dutch",
                "finnish",
                "french",
                "german",
                "italian",
                "norwegian",
                "portuguese",
                "spanish",
                "swedish",
            )
        ],  # fmt: skip
        default="english",
    )
    reply_target_days = models.DecimalField(
        max_digits=4,
        decimal_places=1,
        default=decimal.Decimal(1),
        help_text="How soon, in business days, a customer should hear back from us.",
    )
    # Webhooks may call private, loopback and link-local addresses (an admin's choice, for
    # receivers inside the organisation's own network); off, they are refused (SSRF).
    webhooks_allow_private = models.BooleanField(
        default=False,
        verbose_name="Allow webhooks to private addresses",
        help_text="Only for receivers on your own network: loopback, 10.x, 192.168.x, ...",
    )

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    MANAGER = "manager", "Manager"
    SALES = "sales", "Sales"
    SUPPORT = "support", "Support"


class Membership(models.Model):
    """A user's place in an organisation, with a role.

    Memberships are how tenancy is resolved, so they are read before any organisation is chosen
    (the organisation switcher lists a user's memberships across organisations); they are always
    looked up by user, never listed for a whole organisation without it.
    """

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="memberships"
    )
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.SALES)
    joined_at = models.DateTimeField(default=timezone.now)
    # The day (in the organisation's time zone) this member's daily digest was last sent.
    digest_sent_on = models.DateField(null=True, blank=True)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["organisation", "user"], name="membership_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.organisation} ({self.get_role_display()})"

    @property
    def can_manage(self) -> bool:
        return self.role in {Role.ADMIN, Role.MANAGER}


class Holiday(TenantModel):
    """A day the organisation does not work: no business hours count on it."""

    date = models.DateField()
    name = models.CharField(max_length=100, blank=True)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["organisation", "date"], name="holiday_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.date:%d %b %Y} {self.name}".strip()
