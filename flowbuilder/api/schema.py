"""drf-spectacular hooks: the error envelope documented on every operation."""

from __future__ import annotations

from typing import Any

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "details", "request_id", "timestamp"],
            "properties": {
                "code": {
                    "type": "string",
                    "enum": [
                        "VALIDATION_ERROR",
                        "UNAUTHORIZED",
                        "FORBIDDEN",
                        "NOT_FOUND",
                        "METHOD_NOT_ALLOWED",
                        "CONFLICT",
                        "PAYLOAD_TOO_LARGE",
                        "UNSUPPORTED_MEDIA_TYPE",
                        "UNPROCESSABLE",
                        "RATE_LIMIT_EXCEEDED",
                        "INTERNAL_ERROR",
                        "SERVICE_UNAVAILABLE",
                    ],
                },
                "reason": {
                    "type": "string",
                    "description": "The specific cause, when there is one a client may act on "
                    "(e.g. IDEMPOTENCY_KEY_REUSED, STORAGE_QUOTA_EXCEEDED, WEBHOOK_SIGNATURE_INVALID)",
                },
                "message": {"type": "string"},
                "details": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "field": {"type": "string", "nullable": True, "example": "definition.nodes[2].type"},
                            "message": {"type": "string"},
                        },
                    },
                },
                "request_id": {"type": "string"},
                "timestamp": {"type": "string", "format": "date-time"},
            },
        }
    },
}

_COMMON = {
    "400": "Validation error",
    "401": "Not authenticated",
    "404": "Not found",
    "429": "Rate limit exceeded",
    "503": "Service unavailable (the database, broker or a configured provider cannot be reached); retry after `Retry-After`",
}
# Any operation a signed-in caller makes may be refused: an API key without the scope, a role without the right.
_AUTHENTICATED = {"403": "Forbidden: the API key lacks the scope, or your role on the object does not allow it"}


def add_error_responses(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """Adds the ``Error`` component and the common error answers to each operation."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    ref = {"$ref": "#/components/schemas/Error"}
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            common = dict(_COMMON)
            if any(requirement for requirement in operation.get("security", [{}])):
                common.update(_AUTHENTICATED)
            for code, description in common.items():
                operation["responses"].setdefault(
                    code, {"description": description, "content": {"application/json": {"schema": ref}}}
                )
    return result
