"""``http_request``: call an HTTP API and return its status, headers and body."""

from __future__ import annotations

from executions.engine.nodes._schema import (
    BOOLEAN,
    CREDENTIAL_REF,
    STRING_MAP,
    TEXT,
    config_schema,
    dynamic,
    enum,
    integer,
    prop,
    results,
)
from executions.engine.registry import register
from executions.engine.types import NodeCategory, NodeType

_QUERY = {"type": "object", "additionalProperties": {"type": ["string", "number", "boolean"]}}
_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")

NODE_TYPE = register(
    NodeType(
        type="http_request",
        label="HTTP Request",
        description="Sends an HTTP request and outputs the response's status, headers and body.",
        category=NodeCategory.INTEGRATION,
        config_schema=config_schema(
            {
                "method": prop("Method", "The HTTP method.", enum(*_METHODS), default="GET"),
                "url": prop("URL", "The URL to call, e.g. https://api.example.com/items/{{ input.id }}.", TEXT),
                "headers": prop("Headers", "Request headers, name to value.", dynamic(STRING_MAP), default={}),
                "query": prop("Query parameters", "Added to the URL's query string.", dynamic(_QUERY), default={}),
                "body": prop("Body", "The request body: any JSON value, encoded as 'body_type' says."),
                "body_type": prop(
                    "Body type",
                    "'json' sends JSON, 'form' URL-encodes an object, 'raw' sends a string as is.",
                    enum("json", "form", "raw"),
                    default="json",
                ),
                "credential": prop("Credential", "Basic auth, bearer token, API key or OAuth2 token.", CREDENTIAL_REF),
                "timeout_seconds": prop(
                    "Timeout", "Seconds to wait for a response.", dynamic(integer(1, 300)), default=30
                ),
                "follow_redirects": prop("Follow redirects", "Follow 3xx redirects.", dynamic(BOOLEAN), default=True),
                "max_redirects": prop("Max redirects", "Redirects to follow.", dynamic(integer(0, 20)), default=5),
                "fail_on_status": prop("Fail on 4xx/5xx", "Fail on an error status.", dynamic(BOOLEAN), default=True),
                "response_type": prop(
                    "Response type",
                    "How to read the body: 'auto' parses JSON when the Content-Type says so, else reads text.",
                    enum("auto", "json", "text"),
                    default="auto",
                ),
            },
            required=("url",),
        ),
        credential_types=("http_basic", "http_bearer", "api_key", "oauth2_token"),
        side_effects=True,
        output_schema=results(status={"type": "integer"}, headers={"type": "object"}, body={}),
    )
)
