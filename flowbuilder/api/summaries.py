"""Summaries (and descriptions) of the operations whose views say nothing in users' words.

drf-spectacular takes a view's docstring as its operations' description; for views that share a
base class, or whose docstring is written for the code's readers, that is what users got
("Base of the public login-family endpoints"). Here each such operation gets what it does, in
the words of someone calling it. ``tests/api/test_docs.py`` holds every operation to having a summary.
"""

from __future__ import annotations

from typing import Any

# operationId → (summary, description or None to keep the view's)
OPERATIONS: dict[str, tuple[str, str | None]] = {
    "ai_chat_create": (
        "Chat with a model of your (or the server's) OpenAI-compatible provider",
        "`messages` as in OpenAI's chat API; with `credential_id`, your provider, else the server's default one. "
        "Tokens and cost are counted in your usage.",
    ),
    "ai_image_analyze_create": (
        "Ask a vision model about an image",
        "An image by `image_url` or `image_base64`, and what to ask about it in `prompt`.",
    ),
    "ai_image_generate_create": (
        "Generate images (OpenAI images API)",
        "Images made from `prompt`, as URLs or base64.",
    ),
    "api_keys_list": ("Your API keys (never the keys themselves)", "Keys you made, with their scopes and a preview."),
    "api_keys_create": (
        "Make an API key",
        "The key is in the answer's `key`, this once only. Send it as `X-API-Key` (or `Authorization: Bearer`); "
        "`scopes` narrow what it may do to a subset of your own permissions.",
    ),
    "api_keys_destroy": ("Revoke an API key", "Requests with it are refused from now on."),
    "auth_cross_system_token_create": (
        "Make a short-lived token for another system",
        "A signed token naming the target system and the permissions it may use on your behalf.",
    ),
    "auth_guest_create": (
        "Start a guest session",
        "A temporary account to try things out: dry runs only, no credentials.",
    ),
    "auth_login_create": (
        "Log in",
        "Answers an access token (send it as `Authorization: Bearer`) and a refresh token.",
    ),
    "auth_logout_create": ("Log out", "Revokes the refresh token."),
    "auth_me_retrieve": ("Who you are", "Your account, roles and permissions."),
    "auth_password_create": (
        "Change your password",
        "With your session's token, never an API key. Every other session's tokens stop working.",
    ),
    "auth_refresh_create": (
        "Get a new access token",
        "With the refresh token in the body, or as `Authorization: Bearer <refresh token>`.",
    ),
    "auth_register_create": ("Create an account", "Then log in with the same e-mail and password."),
    "auth_token_create": (
        "Get a token with the OAuth2 password grant",
        "For tools that speak OAuth2: form-encoded `username` and `password`.",
    ),
    "credentials_create": (
        "Store a credential",
        "Encrypted at rest; answered (and listed) with a masked hint only. Nodes use it by id.",
    ),
    "credentials_partial_update": ("Rename a credential or replace its data", None),
    "integrations_create": (
        "Connect a service",
        "A named service (Slack, SMTP, an AI provider, …) using one of your credentials.",
    ),
    "integrations_partial_update": ("Change a connected service", None),
    "monitoring_health_retrieve": (
        "Health check",
        "Overall status for everyone; each dependency's result for staff. 503 when a critical one is down.",
    ),
    "node_types_list": (
        "The node types",
        "Each type's description, ports, the JSON Schema of its config and the credential it needs.",
    ),
    "templates_create": (
        "Make a template",
        "A definition with `{{ parameter }}` placeholders and the parameters' descriptions.",
    ),
    "templates_update": ("Replace a template", None),
    "templates_partial_update": ("Change a template", None),
    "users_retrieve": ("A user you share workflows with", None),
    "workflows_create": (
        "Create a workflow",
        "The definition is validated (every problem at once, each pointing at its field) and kept as version 1. "
        "`workflow_data` is accepted for `definition`, and the seeds' formats are converted.",
    ),
    "workflows_update": (
        "Replace a workflow",
        "A new definition makes a new version; pass `version` to get a 409 on a stale edit.",
    ),
    "workflows_partial_update": (
        "Change a workflow",
        "Any of its fields; a new definition makes a new version. Pass `version` to get a 409 on a stale edit.",
    ),
    "workflows_export_retrieve": (
        "Export a workflow",
        "A JSON document `POST /workflows/import` takes back, here or elsewhere.",
    ),
    "workflows_shares_create": ("Share a workflow", "With a user by e-mail, as `viewer`, `operator` or `editor`."),
    "workflows_shares_destroy": ("Stop sharing a workflow with a user", None),
    "workflows_versions_list": ("A workflow's versions", "Every change of the definition made one, newest first."),
    "workflows_versions_retrieve": ("One version of a workflow, with its definition", None),
    "workflows_versions_restore_create": (
        "Restore an old version",
        "Its definition becomes the current one, as a new version.",
    ),
    "workflows_import_create": (
        "Import a workflow",
        "Our export, a seed format, or an n8n workflow (for the node types we have equivalents of); "
        "what cannot be converted is reported per node.",
    ),
    "workflows_validate_create": (
        "Check a definition without saving it",
        "Every problem at once, each pointing at its field; 200 whether it is valid or not.",
    ),
}


def add_summaries(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """drf-spectacular hook: the summaries (and descriptions) above, where a view gave none."""
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            if not isinstance(operation, dict):
                continue
            entry = OPERATIONS.get(operation.get("operationId", ""))
            if entry is None:
                continue
            summary, description = entry
            operation.setdefault("summary", summary)
            if description is not None:
                operation["description"] = description
    return result
