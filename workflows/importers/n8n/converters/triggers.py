"""Triggers: manual, webhook, schedule (Schedule Trigger, Cron, Interval), called by another workflow."""

from __future__ import annotations

from collections.abc import Mapping

from workflows.importers.n8n import schedule
from workflows.importers.n8n.base import Converted, Source

_WEBHOOK_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
_INPUT_TYPES = {"string": "string", "number": "number", "boolean": "boolean", "array": "array", "object": "object"}


def manual_trigger(src: Source) -> Converted:
    return Converted("trigger.manual", {})


def workflow_input_trigger(src: Source) -> Converted:
    """The trigger "When called by another workflow": a manual trigger whose input schema lists the inputs."""
    fields = src.param("workflowInputs", "values", default=[])
    properties = {
        field["name"]: {"type": _INPUT_TYPES[field.get("type")]} if field.get("type") in _INPUT_TYPES else {}
        for field in fields
        if isinstance(field, Mapping) and isinstance(field.get("name"), str)
    }
    config = {"input_schema": {"type": "object", "properties": properties}} if properties else {}
    return Converted("trigger.manual", config)


def webhook_trigger(src: Source) -> Converted:
    method = src.param("httpMethod", default="GET")
    if isinstance(method, list):  # "Allow multiple HTTP methods"
        src.warn(f"accepted {', '.join(map(str, method))}; a Flowbuilder webhook accepts one method", at="httpMethod")
        method = method[0] if method else "POST"
    if method not in _WEBHOOK_METHODS:
        src.warn(f"the method {method} is not available for webhooks; it accepts POST instead", at="httpMethod")
        method = "POST"
    respond = "when_done" if src.param("responseMode") in ("lastNode", "responseNode") else "immediately"
    if src.param("path"):
        src.warn(
            f"the webhook gets a new secret URL (/hooks/<token>) instead of the n8n path '{src.param('path')}'",
            at="path",
        )
    if src.param("authentication", default="none") != "none":
        src.warn(
            f"n8n checked requests with {src.param('authentication')}; Flowbuilder can check an HMAC signature "
            "(config.hmac_credential) instead",
            at="authentication",
        )
    return Converted("trigger.webhook", {"method": method, "respond": respond})


def schedule_trigger(src: Source) -> Converted:
    rules = src.param("rule", "interval", default=[]) or [{"field": "days"}]
    if len(rules) > 1:
        src.warn("has several schedule rules; only the first is imported", at="rule.interval")
    first = rules[0] if isinstance(rules[0], Mapping) else {}
    return _schedule(src, *schedule.schedule_rule(first), at="rule.interval[0]")


def cron_trigger(src: Source) -> Converted:
    items = src.param("triggerTimes", "item", default=[])
    if len(items) > 1:
        src.warn("has several trigger times; only the first is imported", at="triggerTimes.item")
    if not items or not isinstance(items[0], Mapping):
        return _schedule(src, None, "has no trigger times", at="triggerTimes")
    return _schedule(src, *schedule.cron_node_item(items[0]), at="triggerTimes.item[0]")


def interval_trigger(src: Source) -> Converted:
    return _schedule(src, *schedule.interval_node(src.node.parameters), at="interval")


def _schedule(src: Source, cron: str | None, problem: str | None, *, at: str) -> Converted:
    if cron is None:
        src.warn(f"{problem}; replaced by a manual trigger: set a schedule by hand", at=at)
        return Converted("trigger.manual", {})
    config = {"cron": cron}
    if src.timezone:
        config["timezone"] = src.timezone
    return Converted("trigger.schedule", config)
