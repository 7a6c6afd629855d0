from __future__ import annotations

import datetime

from django.utils import timezone

from api.models import ApiToken, token_digest
from organisations.models import Membership


def api_token_create(
    *, membership: Membership, name: str, expires_at: datetime.datetime | None = None
) -> tuple[ApiToken, str]:
    """A new token and its secret, which is never stored and so can only be shown now."""
    secret = ApiToken.new_secret()
    token = ApiToken.objects.create(
        membership=membership,
        name=name,
        digest=token_digest(secret),
        hint=secret[:10],
        expires_at=expires_at,
    )
    return token, secret


def api_token_revoke(*, token: ApiToken) -> None:
    if token.revoked_at is None:
        ApiToken.objects.filter(pk=token.pk, revoked_at=None).update(revoked_at=timezone.now())
        token.revoked_at = timezone.now()


def api_token_find(secret: str) -> ApiToken | None:
    """The usable token with this secret, with its member and organisation; None otherwise."""
    token = (
        ApiToken.objects.select_related("membership__user", "membership__organisation")
        .filter(digest=token_digest(secret))
        .first()
    )
    if token is None or not token.is_usable or not token.membership.user.is_active:
        return None
    return token


# Writing last-used on every call would make each request a write; a minute is precise enough.
LAST_USED_PRECISION = datetime.timedelta(minutes=1)


def api_token_touch(token: ApiToken) -> None:
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_PRECISION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
