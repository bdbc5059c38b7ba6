"""Per-type converters: an n8n node's parameters → a Flowbuilder node's type and config.

:data:`CONVERTERS` maps each n8n type we have an equivalent of to its
:class:`~workflows.importers.n8n.base.Spec`. A converter raises
:class:`~workflows.importers.n8n.base.Unsupported` when the parameters ask for
something we cannot do; the importer then puts a pass-through in its place.
Parameter names follow recent typeVersions, with the older ones' where they
differ; n8n leaves parameters at their default out of exports, so every read
has n8n's default.
"""

from __future__ import annotations

from workflows.importers.n8n.base import Spec
from workflows.importers.n8n.converters.control import (
    filter_condition,
    if_condition,
    merge,
    no_op,
    split_in_batches,
    switch,
    wait,
)
from workflows.importers.n8n.converters.data import code, set_fields
from workflows.importers.n8n.converters.http import http_request
from workflows.importers.n8n.converters.integrations import (
    email,
    execute_workflow,
    openai,
    openai_chat_model,
    respond_to_webhook,
    slack,
)
from workflows.importers.n8n.converters.triggers import (
    cron_trigger,
    interval_trigger,
    manual_trigger,
    schedule_trigger,
    webhook_trigger,
    workflow_input_trigger,
)

_BASE = "n8n-nodes-base."
_LANGCHAIN = "@n8n/n8n-nodes-langchain."

CONVERTERS: dict[str, Spec] = {
    f"{_BASE}manualTrigger": Spec(manual_trigger, "input", trigger=True),
    f"{_BASE}start": Spec(manual_trigger, "input", trigger=True),
    f"{_BASE}executeWorkflowTrigger": Spec(workflow_input_trigger, "input", trigger=True),
    f"{_BASE}webhook": Spec(webhook_trigger, "input", trigger=True),
    f"{_BASE}scheduleTrigger": Spec(schedule_trigger, "input", trigger=True),
    f"{_BASE}cron": Spec(cron_trigger, "input", trigger=True),
    f"{_BASE}interval": Spec(interval_trigger, "input", trigger=True),
    f"{_BASE}httpRequest": Spec(http_request, "body"),
    f"{_BASE}if": Spec(if_condition, "through"),
    f"{_BASE}filter": Spec(filter_condition, "through"),
    f"{_BASE}switch": Spec(switch, "through"),
    f"{_BASE}set": Spec(set_fields),
    f"{_BASE}code": Spec(code),
    f"{_BASE}function": Spec(code),
    f"{_BASE}functionItem": Spec(code),
    f"{_BASE}merge": Spec(merge, "unknown"),
    f"{_BASE}wait": Spec(wait, "through"),
    f"{_BASE}noOp": Spec(no_op, "through"),
    f"{_BASE}emailSend": Spec(email),
    f"{_BASE}slack": Spec(slack),
    f"{_BASE}executeWorkflow": Spec(execute_workflow),
    f"{_BASE}respondToWebhook": Spec(respond_to_webhook, "through"),
    f"{_BASE}splitInBatches": Spec(split_in_batches, "through"),
    f"{_BASE}openAi": Spec(openai),
    f"{_LANGCHAIN}openAi": Spec(openai),
    f"{_LANGCHAIN}lmChatOpenAi": Spec(openai_chat_model),
}
