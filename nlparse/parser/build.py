"""A plan to a workflow definition: nodes with configs of our node types, edges, variables.

What the words cannot tell (which Slack webhook, which LLM credential, which
workflow a loop runs) becomes a ``{{ vars.… }}`` placeholder declared in
``variables``, with a warning pointing at the config field to fill in.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from nlparse.parser.ir import ActionItem, Condition, Loop, Plan, Step, TriggerItem
from nlparse.result import ParseWarning

X_STEP, Y_STEP = 260, 160
# Subjects that mean the previous step's result itself, not a field of it.
_WHOLE_RESULT = frozenset(
    {"result", "response", "output", "body", "answer", "reply", "data", "content", "json", "payload", "it", "value"}
)
_STATUS_WORDS = frozenset({"status", "code", "http", "response", "statuscode"})
_LLM_INSTRUCTIONS = {
    "summarise": "Summarise the following",
    "summarize": "Summarize the following",
    "summary": "Summarise the following",
    "translate": "Translate the following",
    "compare": "Compare the following",
    "comparison": "Compare the following",
    "classify": "Classify the following",
    "categorise": "Categorise the following",
    "categorize": "Categorize the following",
    "analyse": "Analyse the following",
    "analyze": "Analyze the following",
    "extract": "Extract the key facts from the following",
    "answer": "Answer the following",
}
_COMPARATORS = {"eq": "==", "ne": "!=", "gt": ">", "lt": "<", "ge": ">=", "le": "<="}


@dataclass
class _Source:
    """What "the result" refers to at a point of the flow: a node and its type."""

    node_id: str | None  # None: the trigger's data
    node_type: str

    def expression(self, trigger_kind: str) -> str:
        if self.node_id is None:
            return "input.body" if trigger_kind == "webhook" else "input"
        base = f"steps.{self.node_id}.output"
        if self.node_type == "http_request":
            return f"{base}.body"
        if self.node_type == "llm":
            return f"{base}.text"
        return base

    def text(self, trigger_kind: str) -> str:
        """A template rendering it as text, for fields that take text (an e-mail body, a Slack
        message): the LLM's text as it is, anything else as JSON."""
        expression = self.expression(trigger_kind)
        if self.node_type == "llm":
            return f"{{{{ {expression} }}}}"
        return f"{{{{ {expression} | tojson(indent=2) }}}}"


@dataclass
class _Builder:
    plan: Plan
    nodes: list[dict[str, Any]] = field(default_factory=list)
    edges: list[dict[str, Any]] = field(default_factory=list)
    variables: dict[str, Any] = field(default_factory=dict)
    warnings: list[ParseWarning] = field(default_factory=list)
    column: int = 0

    @property
    def trigger_kind(self) -> str:
        return self.plan.trigger.kind if self.plan.trigger else "manual"

    # --- nodes and edges ------------------------------------------------------------

    def add(self, base_id: str, node_type: str, name: str, config: dict[str, Any], lane: int) -> str:
        taken = {n["id"] for n in self.nodes}
        node_id, counter = base_id, 2
        while node_id in taken:
            node_id, counter = f"{base_id}_{counter}", counter + 1
        self.nodes.append(
            {
                "id": node_id,
                "type": node_type,
                "name": name[:200],
                "config": config,
                "position": {"x": X_STEP * self.column, "y": Y_STEP * lane},
            }
        )
        self.column += 1
        return node_id

    def index_of(self, node_id: str) -> int:
        return next(i for i, n in enumerate(self.nodes) if n["id"] == node_id)

    def connect(self, frontier: list[tuple[str, str | None]], target: str) -> None:
        for source, port in frontier:
            edge: dict[str, Any] = {"id": f"e{len(self.edges) + 1}", "source": source, "target": target}
            if port:
                edge["source_port"] = port
            self.edges.append(edge)

    def placeholder(self, node_id: str, key: str, variable: str, message: str) -> str:
        self.variables.setdefault(variable, "")
        self.warnings.append(
            ParseWarning(
                f"{message}: set variables.{variable}", field=f"definition.nodes[{self.index_of(node_id)}].config.{key}"
            )
        )
        return f"{{{{ vars.{variable} }}}}"

    # --- the flow ------------------------------------------------------------------------

    def build(self) -> dict[str, Any]:
        trigger_id = self.add_trigger(self.plan.trigger)
        self.steps(self.plan.steps, [(trigger_id, None)], _Source(None, "trigger"), lane=0)
        return {"nodes": self.nodes, "edges": self.edges, "variables": self.variables, "settings": {}}

    def add_trigger(self, trigger: TriggerItem | None) -> str:
        if trigger is None:
            return self.add("start", "trigger.manual", "Run by hand", {}, 0)
        if trigger.kind == "schedule":
            name = f"Schedule {trigger.config['cron']} ({trigger.config['timezone']})"
            return self.add("schedule", "trigger.schedule", name, dict(trigger.config), 0)
        if trigger.kind == "webhook":
            return self.add("webhook", "trigger.webhook", "Webhook received", dict(trigger.config), 0)
        if trigger.kind == "file":
            return self.add("upload", "trigger.manual", "File uploaded", dict(trigger.config), 0)
        return self.add("start", "trigger.manual", "Run by hand", {}, 0)

    def steps(
        self, steps: list[Step], frontier: list[tuple[str, str | None]], source: _Source, lane: int
    ) -> tuple[list[tuple[str, str | None]], _Source]:
        """Build ``steps`` after ``frontier``; answers the new frontier and what "the result" is there."""
        for step in steps:
            if len(frontier) > 1:  # branches meet again: a merge waits for the one that ran
                merge_id = self.add("merge", "merge", "Merge branches", {"mode": "wait_all"}, lane)
                self.connect(frontier, merge_id)
                frontier, source = [(merge_id, None)], _Source(merge_id, "merge")
            if isinstance(step, ActionItem) and step.kind == "http" and step.slots.get("urls"):
                frontier, source = self.several_requests(step, frontier, source, lane)
            elif isinstance(step, ActionItem):
                if step.kind == "llm" and step.slots.get("url"):  # "summarise https://…": fetch it first
                    fetch = ActionItem("http", step.span, {"method": "GET", "url": step.slots["url"]})
                    node_id, node_type, port = self.action(fetch, source, lane)
                    self.connect(frontier, node_id)
                    frontier, source = [(node_id, port)], _Source(node_id, node_type)
                node_id, node_type, port = self.action(step, source, lane)
                self.connect(frontier, node_id)
                frontier, source = [(node_id, port)], _Source(node_id, node_type)
            elif isinstance(step, Condition):
                frontier, source = self.condition(step, frontier, source, lane)
            elif isinstance(step, Loop):
                frontier, source = self.loop(step, frontier, source, lane)
        return frontier, source

    def several_requests(
        self, step: ActionItem, frontier: list[tuple[str, str | None]], source: _Source, lane: int
    ) -> tuple[list[tuple[str, str | None]], _Source]:
        """ "Fetch A and B": a request each, one after the other, then their bodies together in a list."""
        bodies = []
        for url in step.slots["urls"]:
            item = ActionItem("http", step.span, {**step.slots, "url": url, "urls": None})
            node_id, node_type, port = self.action(item, source, lane)
            self.connect(frontier, node_id)
            frontier = [(node_id, port)]
            bodies.append(_Source(node_id, node_type).expression(self.trigger_kind))
        config = {"value": "{{ [" + ", ".join(bodies) + "] }}"}
        combine_id = self.add("responses", "transform", "The responses together", config, lane)
        self.connect(frontier, combine_id)
        return [(combine_id, None)], _Source(combine_id, "transform")

    def condition(
        self, step: Condition, frontier: list[tuple[str, str | None]], source: _Source, lane: int
    ) -> tuple[list[tuple[str, str | None]], _Source]:
        head = step.head
        if head.op == "error_answer" and source.node_type == "http_request":
            # "if it returns an error": a condition on the answer's status; the request must then not
            # fail on an error status itself.
            self.nodes[self.index_of(source.node_id)]["config"]["fail_on_status"] = False
            cond_id = self.add(
                "check",
                "condition",
                "If the answer is an error",
                {"expression": f"{{{{ steps.{source.node_id}.output.status >= 400 }}}}"},
                lane,
            )
            self.connect(frontier, cond_id)
            then_start, else_start = [(cond_id, "true")], [(cond_id, "false")]
        elif (
            head.op in ("failed", "error_answer")
            and source.node_id is not None
            and source.node_type not in ("merge", "condition")
        ):
            # "if it fails": the failing step's error port, not a condition node.
            node = self.nodes[self.index_of(source.node_id)]
            node["on_error"] = "error_port"
            then_start: list[tuple[str, str | None]] = [(source.node_id, "error")]
            else_start: list[tuple[str, str | None]] = [(source.node_id, None)]
            # The earlier edges out of that node (none yet: it was the last one built) stay on its main port.
        else:
            expression = self.expression(head.subject, head.op, head.value, source)
            name = (
                f"If {_describe(head.subject)} {head.op.replace('_', ' ')} {'' if head.value is None else head.value}"
            )
            cond_id = self.add("check", "condition", name.strip(), {"expression": expression}, lane)
            self.connect(frontier, cond_id)
            then_start, else_start = [(cond_id, "true")], [(cond_id, "false")]
        then_end, _ = self.steps(step.then, then_start, source, lane)
        else_end, _ = self.steps(step.otherwise, else_start, source, lane + 1)
        return then_end + else_end, source

    def loop(
        self, step: Loop, frontier: list[tuple[str, str | None]], source: _Source, lane: int
    ) -> tuple[list[tuple[str, str | None]], _Source]:
        head = step.head
        if head.source_url:
            fetch_id = self.add(
                "fetch_items",
                "http_request",
                _host_name("Fetch", head.source_url),
                {"method": "GET", "url": head.source_url},
                lane,
            )
            self.connect(frontier, fetch_id)
            frontier, source = [(fetch_id, None)], _Source(fetch_id, "http_request")
        items = source.expression(self.trigger_kind)
        if head.source_path and not set(head.source_path) <= _WHOLE_RESULT:
            items += "." + _identifier(head.source_path)
        body = [_summary(s) for s in step.body]
        plural = head.item_name if head.item_name.endswith("s") else f"{head.item_name}s"
        config = {"items": f"{{{{ {items} }}}}", "workflow_id": "", "input": "{{ item }}"}
        loop_id = self.add("for_each", "for_each", f"For each {head.item_name}", config, lane)
        variable = f"{loop_id}_workflow_id"
        what = ", then ".join(body) if body else "what each item needs"
        config["workflow_id"] = self.placeholder(
            loop_id,
            "workflow_id",
            variable,
            f"'For each' runs a workflow once per item: create one that does {what} with its input "
            f"(the {head.item_name}), and put its id in the loop",
        )
        if body:
            self.nodes[self.index_of(loop_id)]["notes"] = f"Per {head.item_name} of the {plural}: {what}."
        self.connect(frontier, loop_id)
        return [(loop_id, None)], _Source(loop_id, "for_each")

    # --- one action ----------------------------------------------------------------------

    def action(self, item: ActionItem, source: _Source, lane: int) -> tuple[str, str, str | None]:
        """Add the node of ``item``; answers (node id, node type, the port its successor hangs on)."""
        slots = item.slots
        result = f"{{{{ {source.expression(self.trigger_kind)} }}}}"
        kind = item.kind
        if kind == "http":
            method = slots["method"]
            config: dict[str, Any] = {"method": method, "url": slots["url"]}
            if slots.get("send_result"):
                config["body"] = result
            base = "fetch" if method == "GET" else method.lower()
            verb = "Fetch" if method == "GET" else method
            return self.add(base, "http_request", _host_name(verb, slots["url"]), config, lane), "http_request", None
        if kind == "email":
            return self.email(item, result, source, lane), "email", None
        if kind == "slack":
            config = {"credential": "", "text": slots.get("text") or source.text(self.trigger_kind)}
            node_id = self.add("slack", "slack", "Post to Slack", config, lane)
            message = "Choose the Slack webhook credential to post with (credentials cannot be guessed)"
            if slots.get("channel"):
                message += f"; a Slack webhook posts to its own channel, so pick the one for {slots['channel']}"
            config["credential"] = self.placeholder(node_id, "credential", "slack_credential", message)
            return node_id, "slack", None
        if kind == "delay":
            seconds = slots["seconds"]
            return self.add("wait", "delay", f"Wait {_duration(seconds)}", {"seconds": seconds}, lane), "delay", None
        if kind == "approval":
            config = {"message": slots.get("message") or "Approve to continue?"}
            if slots.get("approvers"):
                config["approvers"] = slots["approvers"]
            node_id = self.add("approval", "approval", "Ask for approval", config, lane)
            return node_id, "approval", "approved"
        if kind == "llm":
            task = slots.get("task", "answer")
            instruction = _LLM_INSTRUCTIONS.get(task, f"{task.capitalize()} the following")
            if task == "translate":
                instruction = f"Translate the following into {slots.get('language', 'English')}"
            config = {"credential": "", "prompt": f"{instruction}:\n\n{result}"}
            if slots.get("model"):
                config["model"] = slots["model"]
            node_id = self.add(
                _identifier([task]) if task in _LLM_INSTRUCTIONS else "llm",
                "llm",
                f"{task.capitalize()} with the LLM",
                config,
                lane,
            )
            config["credential"] = self.placeholder(
                node_id, "credential", "llm_credential", "Choose the OpenAI-compatible credential the LLM step uses"
            )
            return node_id, "llm", None
        if kind == "script":
            config = {"code": "output = inputs['data']", "inputs": {"data": result}}
            node_id = self.add("script", "script", "Run a script", config, lane)
            self.warnings.append(
                ParseWarning(
                    "Write the script's code: it reads inputs['data'] (the previous result) and assigns output",
                    field=f"definition.nodes[{self.index_of(node_id)}].config.code",
                )
            )
            return node_id, "script", None
        if kind == "sub_workflow":
            config = {"workflow_id": slots.get("workflow_id", ""), "input": result}
            node_id = self.add("run_workflow", "sub_workflow", f"Run {slots.get('name', 'a workflow')}", config, lane)
            if not slots.get("workflow_id"):
                config["workflow_id"] = self.placeholder(
                    node_id, "workflow_id", f"{node_id}_workflow_id", "Choose the workflow to run"
                )
            return node_id, "sub_workflow", None
        if kind == "respond":
            if self.trigger_kind == "webhook":
                self.nodes[0]["config"]["respond"] = "when_done"
                config = {"status": 200, "body": result}
                return (
                    self.add("respond", "webhook_response", "Respond to the webhook", config, lane),
                    "webhook_response",
                    None,
                )
            return self.add("output", "output", "Return the result", {"value": result}, lane), "output", None
        if kind == "extract":
            path = source.expression(self.trigger_kind) + "." + _identifier(slots["field"].split())
            config = {"value": f"{{{{ {path} }}}}"}
            return self.add("extract", "transform", f"Extract {slots['field']}", config, lane), "transform", None
        raise ValueError(f"unknown action kind {kind!r}")  # pragma: no cover - the grammar makes no others

    def email(self, item: ActionItem, result: str, source: _Source, lane: int) -> str:
        slots = item.slots
        recipients = slots.get("to") or []
        subject = slots.get("subject")
        config: dict[str, Any] = {
            "to": recipients[0] if len(recipients) == 1 else (recipients or ""),
            "subject": subject or "Workflow update",
            "body": slots.get("body") or source.text(self.trigger_kind),
        }
        node_id = self.add("email", "email", f"Email {', '.join(recipients) or 'someone'}"[:200], config, lane)
        if not recipients:
            config["to"] = self.placeholder(node_id, "to", "email_to", "No recipient in the text; give the address")
        if not subject:
            self.warnings.append(
                ParseWarning(
                    "No subject in the text; it is 'Workflow update'",
                    field=f"definition.nodes[{self.index_of(node_id)}].config.subject",
                    start=item.span[0],
                    end=item.span[1],
                )
            )
        return node_id

    def expression(self, subject: list[str] | None, op: str, value: Any, source: _Source) -> str:
        path = self.subject_path(subject, source)
        literal = json.dumps(value)
        if op in _COMPARATORS:
            return f"{{{{ {path} {_COMPARATORS[op]} {literal} }}}}"
        if op == "contains":
            return f"{{{{ {literal} in ({path} | string) }}}}"
        if op == "empty":
            return f"{{{{ not {path} }}}}"
        if op == "not_empty":
            return f"{{{{ {path} | length > 0 }}}}"
        # "failed" with nothing before it that could fail: never true.
        return "{{ false }}"

    def subject_path(self, subject: list[str] | None, source: _Source) -> str:
        words = [w for w in (subject or []) if w not in ("the", "its", "their", "a", "an")]
        if (
            source.node_type == "http_request"
            and words
            and set(words) <= _STATUS_WORDS
            and ("status" in words or "code" in words)
        ):
            return f"steps.{source.node_id}.output.status"
        base = source.expression(self.trigger_kind)
        if not words or set(words) <= _WHOLE_RESULT:
            return base
        words = [w for w in words if w not in ("response", "result", "body")] or words
        return f"{base}.{_identifier(words)}"


def _identifier(words: list[str]) -> str:
    name = re.sub(r"\W+", "_", "_".join(words)).strip("_").lower() or "value"
    return f"_{name}" if name[0].isdigit() else name


def _describe(subject: list[str] | None) -> str:
    return " ".join(subject) if subject else "it"


def _host_name(verb: str, url: str) -> str:
    host = re.sub(r"^https?://", "", url).split("/", 1)[0]
    return f"{verb} {host}"


def _duration(seconds: float) -> str:
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= size and seconds % size == 0:
            count = int(seconds // size)
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds:g} seconds"


def _summary(step: Step) -> str:
    if isinstance(step, ActionItem):
        if step.kind == "http":
            return f"{step.slots['method']} {step.slots['url']}"
        return step.kind.replace("_", " ")
    if isinstance(step, Condition):
        return "a condition"
    return "a loop"


def build_definition(plan: Plan) -> tuple[dict[str, Any], list[ParseWarning]]:
    builder = _Builder(plan)
    definition = builder.build()
    return definition, builder.warnings
