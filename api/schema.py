"""The OpenAPI schema's shared parts: the token scheme and the one error body."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import (
    OpenApiAuthenticationExtension,
    OpenApiSerializerFieldExtension,
)

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["status", "code", "message"],
            "properties": {
                "status": {"type": "integer"},
                "code": {"type": "string"},
                "message": {"type": "string"},
                "fields": {
                    "type": "object",
                    "description": "What is wrong with each input, when particular inputs are.",
                    "additionalProperties": {},
                },
            },
        }
    },
}

_ERRORS = {
    "400": "The input is not valid; `fields` says what is wrong with which.",
    "401": "No credentials, or a token that is unknown, revoked or expired.",
    "403": "Your role does not allow this.",
    "404": "No such organisation (for you), or no such row in it.",
    "405": "This address does not take this method.",
    "406": "Only JSON is offered.",
    "415": "Send JSON.",
    "429": "Too many requests for this token; wait and retry (see Retry-After).",
}


class TokenScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.TokenAuthentication"
    name = "token"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal API token from Settings → API tokens: `tl_…`.",
        }


def add_error_responses(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Every operation may answer with the common error body; say so once for all."""
    components = result.setdefault("components", {})
    components.setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    responses = components.setdefault("responses", {})
    for code, description in _ERRORS.items():
        responses[f"Error{code}"] = {"description": description, "content": error}
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            answers = operation.setdefault("responses", {})
            for code in _ERRORS:
                answers.setdefault(code, {"$ref": f"#/components/responses/Error{code}"})
    return result


class ExpandableFieldScheme(OpenApiSerializerFieldExtension):
    target_class = "api.base.ExpandableField"

    def map_serializer_field(self, auto_schema: Any, direction: Any) -> dict[str, Any]:
        inner = auto_schema._map_serializer_field(self.target.inner, direction)
        if inner is None:  # not part of a request body
            return None  # type: ignore[return-value]
        return {**inner, "nullable": True, "description": self.target.help_text or ""}
