"""One error body for every failure, so clients handle errors in one place:

    {"error": {"status": 400, "code": "invalid", "message": "...", "fields": {"name": ["..."]}}}

`fields` is there only when particular inputs were wrong.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler


def _flatten(detail: Any) -> Any:
    if isinstance(detail, dict):
        return {key: _flatten(value) for key, value in detail.items()}
    if isinstance(detail, list):
        flat: list[Any] = []
        for item in detail:
            value = _flatten(item)
            flat.extend(value if isinstance(value, list) else [value])
        return flat
    return str(detail)


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or None)
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    response = exception_handler(exc, context)
    if response is None:
        return None  # a server error: Django logs it and answers through server_error below
    assert isinstance(exc, exceptions.APIException)  # noqa: S101 - exception_handler promises it
    body: dict[str, Any] = {"status": response.status_code, "code": exc.get_codes()}
    if isinstance(exc, exceptions.ValidationError):
        body["code"] = "invalid"
        detail = exc.detail
        if isinstance(detail, dict):
            fields = _flatten(detail)
            general = fields.pop("non_field_errors", None)
            body["message"] = "; ".join(general) if general else "Some inputs are not valid."
            if fields:
                body["fields"] = fields
        else:
            body["message"] = "; ".join(_flatten(detail))
    else:
        if not isinstance(body["code"], str):
            body["code"] = "error"
        body["message"] = str(exc.detail)
    if response.status_code == status.HTTP_429_TOO_MANY_REQUESTS:
        body["code"] = "throttled"
    response.data = {"error": body}
    return response


def server_error(request: HttpRequest) -> HttpResponse:
    """An unexpected failure, already logged by Django: the error body under /api/, so a
    client's error handling need not parse HTML, else the page."""
    if request.path.startswith("/api/"):
        body = {
            "status": 500,
            "code": "server_error",
            "message": "Something went wrong on our side; it has been logged.",
        }
        return JsonResponse({"error": body}, status=500)
    return defaults.server_error(request)
