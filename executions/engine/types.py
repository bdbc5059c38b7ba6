"""The vocabulary of the engine: node types, ports, and what a node's execution sees and returns."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

JSONSchema = dict[str, Any]
# A semantic check beyond the JSON Schema: (path inside config, message) pairs.
ConfigCheck = Callable[[Mapping[str, Any]], list[tuple[str, str]]]

DEFAULT_PORT = "main"
ERROR_PORT = "error"


class NodeCategory:
    TRIGGER = "trigger"
    CONTROL = "control"  # branches, loops, waits, sub-workflows
    DATA = "data"  # transform, script, output
    INTEGRATION = "integration"  # HTTP, e-mail, Slack
    AI = "ai"
    HUMAN = "human"  # approvals


class Readiness(StrEnum):
    """What the runner does with a pending node once its inbound edges change."""

    RUN = "run"
    WAIT = "wait"
    SKIP = "skip"


@dataclass(frozen=True)
class Inbound:
    """A node's inbound edges as the runner sees them: how many there are, are decided, were taken."""

    total: int
    resolved: int
    taken: int


# A node type's own join rule: (its config, its inbound edges) → what to do now.
JoinRule = Callable[[Mapping[str, Any], Inbound], Readiness]


@dataclass(frozen=True)
class NodeType:
    """A node type's declaration: everything the catalog, the validator and the runner need.

    ``type`` is the name used in definitions (``"http_request"``). ``config_schema``
    is a JSON Schema (draft 2020-12) for the node's ``config``. ``outputs`` lists
    the output ports; ``dynamic_outputs`` computes them from the config when they
    depend on it (``switch``). ``inline`` types do no I/O, so the runner executes
    them in the task that finished their predecessor; they may start a wait
    (``delay``, ``approval`` only compute a wake time).
    ``side_effects`` types are simulated in dry runs. ``joins`` decides when a node
    with several inbound edges runs (``merge``'s modes); without it the rule is
    "all decided, at least one taken". ``sets_output`` types (``output``) give the
    run its output; without one, the run's output is its leaves' outputs. Config fields named in
    ``raw_fields`` are not templates (a script's Python code); those in
    ``deferred_fields`` are rendered later by the node itself (``for_each.input``
    per item); those in ``expression_fields`` are evaluated as code, not rendered
    (``condition.expression``), so a value put there does not stay data. ``check`` adds semantic checks the schema cannot express (a
    valid cron expression, unique switch ports); it sees the raw config, in
    which any string may still be a template.
    """

    type: str
    label: str
    description: str
    category: str
    config_schema: JSONSchema
    inputs: tuple[str, ...] = (DEFAULT_PORT,)
    outputs: tuple[str, ...] = (DEFAULT_PORT,)
    dynamic_outputs: Callable[[Mapping[str, Any]], tuple[str, ...]] | None = None
    credential_types: tuple[str, ...] = ()
    credential_required: bool = False
    is_trigger: bool = False
    inline: bool = False
    side_effects: bool = False
    raw_fields: frozenset[str] = frozenset()
    deferred_fields: frozenset[str] = frozenset()
    expression_fields: frozenset[str] = frozenset()
    output_schema: JSONSchema | None = None
    sets_output: bool = False
    joins: JoinRule | None = field(default=None, compare=False)
    check: ConfigCheck | None = field(default=None, compare=False)
    execute: Callable[[NodeContext], NodeResult] | None = field(default=None, compare=False)
    resume: Callable[[NodeContext], NodeResult] | None = field(default=None, compare=False)

    def output_ports(self, config: Mapping[str, Any]) -> tuple[str, ...]:
        if self.dynamic_outputs is not None:
            return self.dynamic_outputs(config)
        return self.outputs


# --- running a node --------------------------------------------------------------


class NodeError(Exception):
    """A node's failure as the user sees it. ``retryable`` failures use the node's retry policy."""

    def __init__(self, message: str, *, retryable: bool = True, data: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable
        self.data = data


@dataclass(frozen=True)
class ChildRun:
    """A child execution a waiting node asks for (``sub_workflow``, ``for_each``)."""

    workflow_id: str
    input: Any
    index: int | None = None


@dataclass(frozen=True)
class Wait:
    """The node waits without holding a worker: until ``wake_at``, a decision, or its children.

    ``state`` is kept on the step and handed back to ``resume``.
    """

    state: dict[str, Any] = field(default_factory=dict)
    wake_at: Any = None  # datetime | None
    children: tuple[ChildRun, ...] = ()


@dataclass(frozen=True)
class NodeResult:
    """What a node produced. ``ports`` None means the type's usual outputs; ``wait`` suspends the step."""

    output: Any = None
    ports: tuple[str, ...] | None = None
    wait: Wait | None = None
    detached_children: tuple[ChildRun, ...] = ()  # started, not waited for


@dataclass
class NodeContext:
    """What a node's ``execute``/``resume`` sees: its rendered config and the run around it."""

    execution_id: str
    workflow_id: str
    owner_id: Any
    node_id: str
    node_type: NodeType
    config: dict[str, Any]
    expression_context: dict[str, Any]
    attempt: int = 1
    dry_run: bool = False
    timeout: float | None = None
    state: dict[str, Any] = field(default_factory=dict)
    resume: dict[str, Any] | None = None
    credential: dict[str, Any] | None = None  # the decrypted data of config["credential"] (engine/credentials.py)
    credential_type: str | None = None
    inputs: dict[str, Any] = field(default_factory=dict)  # inline nodes: outputs of predecessors whose edges were taken
    child_results: Callable[[], list[dict[str, Any]]] | None = None  # children's {index, status, output, error}
    logs: list[tuple[str, str, Any]] = field(default_factory=list)

    def log(self, level: str, message: str, data: Any = None) -> None:
        """Add a line to the execution's log (stored with the step's result)."""
        self.logs.append((level, message, data))
