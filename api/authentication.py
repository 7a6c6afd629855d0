from __future__ import annotations

from typing import Any

from rest_framework import authentication, exceptions
from rest_framework.request import Request

from api.models import ApiToken
from api.services import api_token_find, api_token_touch


class TokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer tl_…`: a member's personal token, good for one organisation."""

    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[Any, ApiToken] | None:
        header = authentication.get_authorization_header(request).decode("latin-1").split()
        if not header or header[0].lower() != self.keyword.lower():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                "Send the token as “Authorization: Bearer <token>”."
            )
        token = api_token_find(header[1])
        if token is None:
            raise exceptions.AuthenticationFailed("This token is unknown, revoked or expired.")
        api_token_touch(token)
        return token.membership.user, token

    def authenticate_header(self, request: Request) -> str:
        return f'{self.keyword} realm="api"'
