"""Data: fan-out over lists, syncing APIs, enrichment, file processing."""

from __future__ import annotations

from templates_app.gallery._build import HTTP_RETRY, definition, edge, node, param
from templates_app.services import BuiltinTemplate

FAN_OUT = BuiltinTemplate(
    key="fan-out-for-each",
    name="Process a list in parallel (fan-out)",
    category="data",
    description=(
        "Run it with {items: [...]}: each item is checked and tagged by a per-item workflow (created "
        "along with this one: extend it with your own steps), a few at a time, and the results are "
        "collected with counts of valid and invalid items."
    ),
    parameters=(
        param("required_field", "string", "An item without this field is reported invalid.", default="email"),
        param("tag", "string", "Added to every valid item.", default="processed"),
        param("parallelism", "number", "How many items are processed at the same time (1 to 50).", default=5),
    ),
    companions=(
        {
            "key": "per_item",
            "name": "per item",
            "description": "Runs once per item of the fan-out: {item, index} in, {index, valid, item | error} out.",
            "definition": definition(
                [
                    node(
                        "item",
                        "trigger.manual",
                        "Item",
                        {"input_schema": {"type": "object", "required": ["item", "index"]}},
                    ),
                    node(
                        "check",
                        "condition",
                        "Has the field?",
                        {"expression": "{{ input.item is mapping and input.item[vars.required_field] is defined }}"},
                    ),
                    node(
                        "valid",
                        "transform",
                        "Tag it",
                        {
                            "value": {
                                "index": "{{ input.index }}",
                                "valid": True,
                                "item": "{{ dict(input.item, tag=vars.tag) }}",
                            }
                        },
                    ),
                    node(
                        "invalid",
                        "transform",
                        "Report it",
                        {
                            "value": {
                                "index": "{{ input.index }}",
                                "valid": False,
                                "error": "missing '{{ required_field }}'",
                            }
                        },
                    ),
                    node("done", "merge", "Done", {"mode": "first"}),
                    node("result", "output", "Result", {"value": "{{ steps.done.output.values() | first }}"}),
                ],
                [
                    edge("item", "check"),
                    edge("check", "valid", "true"),
                    edge("check", "invalid", "false"),
                    edge("valid", "done"),
                    edge("invalid", "done"),
                    edge("done", "result"),
                ],
                variables={"required_field": "{{ required_field }}", "tag": "{{ tag }}"},
            ),
        },
    ),
    definition=definition(
        [
            node(
                "start",
                "trigger.manual",
                "List",
                {"input_schema": {"type": "object", "required": ["items"], "properties": {"items": {"type": "array"}}}},
            ),
            node(
                "each",
                "for_each",
                "For each item",
                {
                    "items": "{{ input['items'] }}",
                    "workflow_id": "{{ companions.per_item }}",
                    "input": {"item": "{{ item }}", "index": "{{ index }}"},
                    "parallelism": "{{ parallelism }}",
                },
            ),
            node(
                "summary",
                "output",
                "Summary",
                {
                    "value": {
                        "total": "{{ steps.each.output | length }}",
                        "valid": "{{ steps.each.output | selectattr('valid') | list | length }}",
                        "invalid": "{{ steps.each.output | rejectattr('valid') | list | length }}",
                        "results": "{{ steps.each.output }}",
                    }
                },
            ),
        ],
        [edge("start", "each"), edge("each", "summary")],
    ),
)


API_SYNC = BuiltinTemplate(
    key="api-sync",
    name="Sync records between two HTTP APIs",
    category="integration",
    description=(
        "On a schedule, reads records from one API (a JSON list) and writes them to another, retrying "
        "both calls with exponential backoff. Nothing is written when there is nothing to sync."
    ),
    parameters=(
        param("source_url", "url", "Where to read the records (answers a JSON list).", required=True),
        param("destination_url", "url", "Where to write them.", required=True),
        param("write_method", "enum", "How to write them.", default="POST", choices=("POST", "PUT", "PATCH")),
        param("schedule", "string", "When to sync, as cron.", default="0 * * * *"),
        param("timezone", "string", "Time zone of the schedule.", default="UTC"),
        param("max_attempts", "number", "Attempts per call before giving up (1 to 10).", default=5),
        param("backoff_seconds", "number", "First wait between attempts; it doubles each time.", default=10),
        param("source_credential", "string", "Credential id for the source API (optional)."),
        param("destination_credential", "string", "Credential id for the destination API (optional)."),
    ),
    definition=definition(
        [
            node(
                "on_schedule",
                "trigger.schedule",
                "On schedule",
                {"cron": "{{ schedule }}", "timezone": "{{ timezone }}"},
            ),
            node(
                "read",
                "http_request",
                "Read from the source",
                {
                    "method": "GET",
                    "url": "{{ source_url }}",
                    "credential": "{{ source_credential }}",
                    "response_type": "json",
                },
                retry={
                    "max_attempts": "{{ max_attempts }}",
                    "backoff_seconds": "{{ backoff_seconds }}",
                    "backoff_max_seconds": 900,
                },
                timeout_seconds=120,
            ),
            node(
                "prepare",
                "transform",
                "Prepare",
                {
                    "value": {
                        "records": "{{ steps.read.output.body }}",
                        "count": "{{ steps.read.output.body | length }}",
                        "synced_at": "{{ execution.started_at }}",
                    }
                },
            ),
            node("anything", "condition", "Anything to sync?", {"expression": "{{ steps.prepare.output.count > 0 }}"}),
            node(
                "write",
                "http_request",
                "Write to the destination",
                {
                    "method": "{{ write_method }}",
                    "url": "{{ destination_url }}",
                    "credential": "{{ destination_credential }}",
                    "body": "{{ steps.prepare.output }}",
                    "headers": {"Idempotency-Key": "{{ execution.id }}"},
                },
                retry={
                    "max_attempts": "{{ max_attempts }}",
                    "backoff_seconds": "{{ backoff_seconds }}",
                    "backoff_max_seconds": 900,
                },
                timeout_seconds=120,
            ),
            node(
                "synced",
                "output",
                "Synced",
                # A dry run only describes the write: no status then.
                {
                    "value": {
                        "synced": "{{ steps.prepare.output.count }}",
                        "status": "{{ steps.write.output.status | default(none) }}",
                    }
                },
            ),
            node("nothing", "output", "Nothing to sync", {"value": {"synced": 0}}),
        ],
        [
            edge("on_schedule", "read"),
            edge("read", "prepare"),
            edge("prepare", "anything"),
            edge("anything", "write", "true"),
            edge("write", "synced"),
            edge("anything", "nothing", "false"),
        ],
    ),
)


DATA_ENRICHMENT = BuiltinTemplate(
    key="data-enrichment",
    name="Enrich a record via an HTTP API",
    category="data",
    description=(
        "Run it with a record such as a new sign-up {email, …}: the domain of its e-mail address is looked "
        "up in a company-data API (called as <url>?domain=<domain>) and the answer is merged into the record."
    ),
    parameters=(
        param("enrichment_url", "url", "The lookup endpoint; it gets ?domain=<domain>.", required=True),
        param("lookup_field", "string", "The record's field holding the e-mail address.", default="email"),
        param("timeout_seconds", "number", "How long to wait for the API (1 to 300).", default=15),
        param("api_credential", "string", "Credential id for the API (optional)."),
    ),
    definition=definition(
        [
            node("record", "trigger.manual", "Record", {"input_schema": {"type": "object"}}),
            node(
                "domain",
                "transform",
                "E-mail domain",
                {
                    "value": "{{ (input[vars.lookup_field] | default('') | string).split('@')[1:] | join('') | lower | trim }}"
                },
            ),
            node("has_domain", "condition", "Has a domain?", {"expression": "{{ steps.domain.output | length > 0 }}"}),
            node(
                "lookup",
                "http_request",
                "Look it up",
                {
                    "method": "GET",
                    "url": "{{ enrichment_url }}",
                    "query": {"domain": "{{ steps.domain.output }}"},
                    "credential": "{{ api_credential }}",
                    "timeout_seconds": "{{ timeout_seconds }}",
                    "fail_on_status": False,
                    "response_type": "json",
                },
                retry=HTTP_RETRY,
            ),
            node(
                "enriched",
                "output",
                "Enriched record",
                {
                    "value": {
                        "record": "{{ input }}",
                        "enriched": "{{ steps.lookup.output.status == 200 }}",
                        "company": "{{ steps.lookup.output.body if steps.lookup.output.status == 200 else none }}",
                    }
                },
            ),
            node("unchanged", "output", "Record as is", {"value": {"record": "{{ input }}", "enriched": False}}),
        ],
        [
            edge("record", "domain"),
            edge("domain", "has_domain"),
            edge("has_domain", "lookup", "true"),
            edge("lookup", "enriched"),
            edge("has_domain", "unchanged", "false"),
        ],
        variables={"lookup_field": "{{ lookup_field }}"},
    ),
)


NEW_FILE_PROCESSING = BuiltinTemplate(
    key="new-file-processing",
    name="Process new files",
    category="files",
    description=(
        "Run it on an uploaded file {file: {name, content_type, size, url}}: files that are too big or of "
        "another type are refused; the others are classified (table, data, document, image) and the "
        "processing plan is posted to your service."
    ),
    parameters=(
        param("results_url", "url", "Where to post each file's processing plan.", required=True),
        param("max_size_mb", "number", "Largest file accepted, in MB.", default=25),
        param(
            "allowed_types",
            "json",
            "Content types accepted.",
            default=["text/csv", "application/json", "application/pdf", "image/png", "image/jpeg"],
        ),
        param("results_credential", "string", "Credential id for your service (optional)."),
    ),
    definition=definition(
        [
            node("file", "trigger.manual", "New file", {"input_schema": {"type": "object", "required": ["file"]}}),
            node(
                "acceptable",
                "condition",
                "Size and type allowed?",
                {
                    "expression": (
                        "{{ (input.file.size | default(0)) <= vars.max_size_mb * 1048576 "
                        "and (input.file.content_type | default('')) in vars.allowed_types }}"
                    )
                },
            ),
            node(
                "kind",
                "switch",
                "Kind of file",
                {
                    "value": "{{ (input.file.content_type | default('')).split('/')[0] if (input.file.content_type | default('')).startswith('image/') else input.file.content_type }}",
                    "cases": [
                        {"port": "table", "equals": "text/csv"},
                        {"port": "data", "equals": "application/json"},
                        {"port": "document", "equals": "application/pdf"},
                        {"port": "image", "equals": "image"},
                    ],
                    "default_port": "other",
                },
            ),
            node(
                "table",
                "transform",
                "Table",
                {"value": {"kind": "table", "steps": ["parse_csv", "validate_rows", "import"]}},
            ),
            node(
                "data", "transform", "Data", {"value": {"kind": "data", "steps": ["parse_json", "validate", "import"]}}
            ),
            node(
                "document", "transform", "Document", {"value": {"kind": "document", "steps": ["extract_text", "index"]}}
            ),
            node("image", "transform", "Image", {"value": {"kind": "image", "steps": ["thumbnail", "describe"]}}),
            node("other", "transform", "Other", {"value": {"kind": "other", "steps": ["store"]}}),
            node("plan", "merge", "Plan", {"mode": "first"}),
            node(
                "deliver",
                "http_request",
                "Post the plan",
                {
                    "method": "POST",
                    "url": "{{ results_url }}",
                    "credential": "{{ results_credential }}",
                    "body": {
                        "file": "{{ input.file }}",
                        "plan": "{{ steps.plan.output.values() | first }}",
                        "execution_id": "{{ execution.id }}",
                    },
                },
                retry=HTTP_RETRY,
            ),
            node(
                "accepted",
                "output",
                "Accepted",
                {"value": {"accepted": True, "plan": "{{ steps.plan.output.values() | first }}"}},
            ),
            node(
                "refused",
                "output",
                "Refused",
                {
                    "value": {
                        "accepted": False,
                        "reason": "larger than {{ max_size_mb }} MB, or not one of the allowed types",
                    }
                },
            ),
        ],
        [
            edge("file", "acceptable"),
            edge("acceptable", "kind", "true"),
            edge("acceptable", "refused", "false"),
            edge("kind", "table", "table"),
            edge("kind", "data", "data"),
            edge("kind", "document", "document"),
            edge("kind", "image", "image"),
            edge("kind", "other", "other"),
            edge("table", "plan"),
            edge("data", "plan"),
            edge("document", "plan"),
            edge("image", "plan"),
            edge("other", "plan"),
            edge("plan", "deliver"),
            edge("deliver", "accepted"),
        ],
        variables={"max_size_mb": "{{ max_size_mb }}", "allowed_types": "{{ allowed_types }}"},
    ),
)

TEMPLATES = (FAN_OUT, API_SYNC, DATA_ENRICHMENT, NEW_FILE_PROCESSING)
