"""``switch``: route a value to the port of the first case it equals, else to the default port."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from executions.engine.nodes._schema import PORT_PATTERN, Problem, config_schema, path_of, prop, strict_object
from executions.engine.registry import register
from executions.engine.types import ERROR_PORT, NodeCategory, NodeContext, NodeResult, NodeType

_PORT = {"type": "string", "pattern": PORT_PATTERN}
_CASE = strict_object(
    {
        "port": prop("Port", "The output port this case continues on.", _PORT),
        "equals": prop("Equals", "The value (any JSON, may be a template) that selects this case."),
    },
    required=("port", "equals"),
)
_RESERVED = f"'{ERROR_PORT}' is reserved for the error port"


def _case_ports(config: Mapping[str, Any]) -> list[Any]:
    cases = config.get("cases")
    return [case.get("port") if isinstance(case, dict) else None for case in cases] if isinstance(cases, list) else []


def dynamic_outputs(config: Mapping[str, Any]) -> tuple[str, ...]:
    """The case ports in order, then the default port, each once."""
    ports = [*_case_ports(config), config.get("default_port", "default")]
    return tuple(dict.fromkeys(port for port in ports if isinstance(port, str)))


def check(config: Mapping[str, Any]) -> list[Problem]:
    problems: list[Problem] = []
    ports = _case_ports(config)
    for index, port in enumerate(ports):
        if port == ERROR_PORT:
            problems.append((path_of("cases", index, "port"), _RESERVED))
        elif isinstance(port, str) and port in ports[:index]:
            problems.append((path_of("cases", index, "port"), f"Another case already uses port '{port}'"))
    if config.get("default_port") == ERROR_PORT:
        problems.append(("default_port", _RESERVED))
    return problems


def execute(ctx: NodeContext) -> NodeResult:
    value = ctx.config.get("value")
    for case in ctx.config.get("cases", []):
        if case.get("equals") == value:
            return NodeResult(output=value, ports=(case["port"],))
    return NodeResult(output=value, ports=(ctx.config.get("default_port", "default"),))


NODE_TYPE = register(
    NodeType(
        type="switch",
        label="Switch",
        description="Outputs the value on the port of the first case it equals, or on the default port.",
        category=NodeCategory.CONTROL,
        config_schema=config_schema(
            {
                "value": prop("Value", "The value to compare, usually a template such as {{ input.plan }}."),
                "cases": prop("Cases", "Checked in order.", {"type": "array", "minItems": 1, "items": _CASE}),
                "default_port": prop("Default port", "The port used when no case matches.", _PORT, default="default"),
            },
            required=("value", "cases"),
        ),
        dynamic_outputs=dynamic_outputs,
        inline=True,
        check=check,
        execute=execute,
    )
)
