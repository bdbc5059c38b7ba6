"""What a clause means, before it becomes nodes: the parser's intermediate representation.

Every item carries the character span (start inclusive, end exclusive, in
the whole text) of the words it came from, so warnings can point at them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Span = tuple[int, int]


@dataclass
class Note:
    """Something the user should know about how their words were read (an assumption, a placeholder)."""

    message: str
    span: Span | None = None


@dataclass
class TriggerItem:
    kind: str  # "manual" | "webhook" | "schedule" | "file"
    span: Span
    config: dict[str, Any] = field(default_factory=dict)
    notes: list[Note] = field(default_factory=list)


@dataclass
class ActionItem:
    """One step. ``kind`` is the action, ``slots`` what the words said about it."""

    kind: str  # http | email | slack | delay | approval | llm | script | sub_workflow | respond | extract
    span: Span
    slots: dict[str, Any] = field(default_factory=dict)
    notes: list[Note] = field(default_factory=list)


@dataclass
class IfItem:
    """The head of a condition: ``subject`` (words, or None for "it") ``op`` ``value``."""

    span: Span
    subject: list[str] | None
    op: str  # eq ne gt lt ge le contains empty not_empty failed
    value: Any = None
    action: ActionItem | None = None  # "if the status is 500 email ops@example.com"
    postfix: bool = False  # "email ops@example.com if the status is 500"


@dataclass
class ElseItem:
    span: Span
    action: ActionItem | None = None


@dataclass
class LoopItem:
    """The head of a loop: over a URL's answer, a named part of the previous result, or the result itself."""

    span: Span
    item_name: str
    source_url: str | None = None
    source_path: list[str] | None = None
    action: ActionItem | None = None


@dataclass
class UnknownItem:
    span: Span
    text: str


Item = TriggerItem | ActionItem | IfItem | ElseItem | LoopItem | UnknownItem


@dataclass
class ClauseReading:
    """One clause's parse: its items and how many of its words no rule explained."""

    items: list[Item]
    span: Span
    filler_spans: list[Span] = field(default_factory=list)
    understood: bool = True


# --- the plan: the items arranged as a program ----------------------------------------


@dataclass
class Condition:
    head: IfItem
    then: list[Step] = field(default_factory=list)
    otherwise: list[Step] = field(default_factory=list)
    has_else: bool = False


@dataclass
class Loop:
    head: LoopItem
    body: list[Step] = field(default_factory=list)


Step = ActionItem | Condition | Loop


@dataclass
class Plan:
    trigger: TriggerItem | None = None
    steps: list[Step] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    unknown: list[UnknownItem] = field(default_factory=list)
