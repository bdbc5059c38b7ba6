"""``script``: run Python code on the step's inputs, in an isolated process."""

from __future__ import annotations

from executions.engine.nodes._schema import TEXT, config_schema, dynamic, integer, prop
from executions.engine.registry import register
from executions.engine.types import NodeCategory, NodeType

NODE_TYPE = register(
    NodeType(
        type="script",
        label="Python Script",
        description="Runs Python code in an isolated process: it reads the dict `inputs` and assigns `output`.",
        category=NodeCategory.DATA,
        config_schema=config_schema(
            {
                "code": prop(
                    "Code",
                    "Python code; reads `inputs`, assigns `output`; print() lines become logs. Not a template.",
                    {**TEXT, "contentMediaType": "text/x-python"},
                    examples=["output = {'total': sum(inputs['prices'])}"],
                ),
                "inputs": prop(
                    "Inputs",
                    "The `inputs` dict the code sees; values may be templates such as {{ steps.fetch.output.body }}.",
                    dynamic({"type": "object"}),
                    default={},
                ),
                "timeout_seconds": prop(
                    "Timeout (seconds)", "Wall-time limit of the script.", dynamic(integer(1, 300)), default=30
                ),
                "memory_mb": prop(
                    "Memory (MB)", "Memory limit of the script's process.", dynamic(integer(16, 1024)), default=256
                ),
            },
            required=("code",),
        ),
        raw_fields=frozenset({"code"}),
    )
)
