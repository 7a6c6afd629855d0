from __future__ import annotations

import hashlib
import secrets
from typing import ClassVar

from django.db import models
from django.utils import timezone

from organisations.models import Membership

TOKEN_PREFIX = "tl_"  # noqa: S105 - a label, not a secret


def token_digest(token: str) -> str:
    # Tokens are 256 random bits, so a fast hash is enough: nothing to brute-force.
    return hashlib.sha256(token.encode()).hexdigest()


class ApiToken(models.Model):
    """A member's personal API token for one organisation.

    Stored only as a digest: the token itself is shown once when it is made. Like a membership,
    it is read before an organisation is chosen (authentication comes first), so it is not a
    row-level-secured tenant row; it belongs to the membership and goes when the member does.
    """

    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="What uses it, e.g. “billing sync”.")
    digest = models.CharField(max_length=64, unique=True, editable=False)
    # The first characters, so a member can tell their tokens apart in a list.
    hint = models.CharField(max_length=12, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes: ClassVar = [models.Index(fields=["membership"], name="api_token_membership")]

    def __str__(self) -> str:
        return f"{self.name} ({self.hint}…)"

    @staticmethod
    def new_secret() -> str:
        return TOKEN_PREFIX + secrets.token_urlsafe(32)

    @property
    def is_usable(self) -> bool:
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or self.expires_at > timezone.now()
