"""An API client that speaks JSON with a personal token, the way scripts use the API."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import Cast, TenantClient


class Api:
    def __init__(self, cast: Cast, secret: str | None = None) -> None:
        self.cast = cast
        self.client = TenantClient()
        self.headers = {"HTTP_AUTHORIZATION": f"Bearer {secret or cast.token_secret}"}

    def url(self, path: str, slug: str | None = None) -> str:
        return f"/api/v1/o/{slug or self.cast.org.slug}/{path.lstrip('/')}"

    def get(self, path: str, params: dict[str, Any] | None = None, **kw: Any) -> Any:
        return self.client.get(self.url(path, kw.pop("slug", None)), params or {}, **self.headers)

    def _send(self, method: str, path: str, body: Any, slug: str | None) -> Any:
        send = getattr(self.client, method)
        return send(
            self.url(path, slug),
            data=json.dumps(body),
            content_type="application/json",
            **self.headers,
        )

    def post(self, path: str, body: Any = None, slug: str | None = None) -> Any:
        return self._send("post", path, body or {}, slug)

    def patch(self, path: str, body: Any = None, slug: str | None = None) -> Any:
        return self._send("patch", path, body or {}, slug)

    def put(self, path: str, body: Any = None, slug: str | None = None) -> Any:
        return self._send("put", path, body or {}, slug)


@pytest.fixture
def api(a: Cast) -> Api:
    """Organisation A's sales member, through their token."""
    return Api(a)


def error_of(response: Any) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"error"}, body
    assert body["error"]["status"] == response.status_code
    return body["error"]
