from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from api.models import ApiToken

if TYPE_CHECKING:  # the throttle is imported while rest_framework.views is being loaded
    from rest_framework.views import APIView


class TokenRateThrottle(SimpleRateThrottle):
    """Each token (or, in the browser, each member's session) has its own budget per minute."""

    scope = "api"

    def get_rate(self) -> str:
        # Read at request time, so an operator's setting (and a test's) applies without reload.
        return settings.API_THROTTLE_RATE

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        if isinstance(request.auth, ApiToken):
            ident = f"token:{request.auth.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            ident = f"ip:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
