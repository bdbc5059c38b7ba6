"""What a per-type converter sees (:class:`Source`) and returns (:class:`Converted`)."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from workflows.importers.n8n.expressions import Scope, translate_json_text, translate_value

MAX_ID_LENGTH = 64
PORT_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,63}$")


class Unsupported(Exception):
    """The node's parameters ask for something Flowbuilder has no equivalent of; the message says what."""


@dataclass(frozen=True)
class N8nNode:
    index: int  # position in the export's ``nodes``: warnings point at ``nodes[<index>]``
    name: str
    type: str
    version: float
    parameters: Mapping[str, Any]
    raw: Mapping[str, Any]


@dataclass
class Converted:
    """A Flowbuilder node's ``type`` and ``config``.

    ``ports[i]`` is the port n8n's output ``i`` continues on (None: the default port);
    ``ports`` None sends every n8n output to the default port.
    """

    type: str
    config: dict[str, Any]
    ports: tuple[str | None, ...] | None = (None,)


@dataclass
class Source:
    """One n8n node being converted, with what its converter needs around it."""

    node: N8nNode
    node_id: str
    scope: Scope  # where $json (the predecessor's items) and $('Name') point
    timezone: str | None
    warnings: list[dict[str, Any]]
    variables: dict[str, Any]

    @property
    def version(self) -> float:
        return self.node.version

    def param(self, *path: str | int, default: Any = None) -> Any:
        """``parameters[path[0]][path[1]]…``, or ``default`` where something is missing."""
        value: Any = self.node.parameters
        for key in path:
            in_list = isinstance(key, int) and isinstance(value, list) and -len(value) <= key < len(value)
            in_mapping = isinstance(key, str) and isinstance(value, Mapping) and key in value
            if not (in_list or in_mapping):
                return default
            value = value[key]
        return default if value is None else value

    def warn(self, message: str, at: str | None = None) -> None:
        """Report ``message`` about this node, at ``nodes[i]`` or its parameter ``at``."""
        where = f"nodes[{self.node.index}]" + (f".parameters.{at}" if at else "")
        self.warnings.append({"field": where, "message": f"n8n node '{self.node.name}': {message}"})

    def template(self, value: Any, *, at: str, into: str) -> Any:
        """``value`` with its n8n expressions translated; what cannot be is kept as text and reported."""
        translated = translate_value(value, self.scope)
        self.report_untranslated(translated.untranslated, at=at, into=into)
        return translated.value

    def report_untranslated(self, expressions: list[str], *, at: str, into: str) -> None:
        for expression in expressions:
            why = ""
            if self.scope.current is None and ("$json" in expression or "$input" in expression):
                why = " ($json has no single source here, e.g. after a merge: name the step, steps.<id>.output)"
            self.warn(
                f"could not translate the expression {expression}{why}; it is kept as text in config.{into}: "
                "rewrite it as a Jinja expression",
                at=at,
            )

    def pairs(self, items: Any, at: str, into: str) -> dict[str, Any]:
        """n8n's ``[{name, value}]`` lists (query, headers, body fields) → ``{name: value}``, values translated."""
        pairs: dict[str, Any] = {}
        for index, item in enumerate(items if isinstance(items, list) else []):
            if isinstance(item, Mapping) and isinstance(item.get("name"), str) and item["name"]:
                pairs[item["name"]] = self.template(item.get("value", ""), at=f"{at}[{index}].value", into=into)
        return pairs

    def json_parameter(self, name: str, *, into: str) -> Any:
        """A JSON-text parameter (``jsonBody``…) as JSON with translated strings; text if it is not JSON."""
        text = self.param(name)
        if not isinstance(text, str) or not text.strip("= \n"):
            return text if isinstance(text, dict | list) else None
        translated = translate_json_text(text, self.scope)
        if translated is None:
            self.warn(f"its {name} is not JSON; it is kept as text", at=name)
            return self.template(text, at=name, into=into)
        self.report_untranslated(translated.untranslated, at=name, into=into)
        return translated.value

    def pass_through(self) -> Any:
        """A transform value that outputs the predecessor's items ({} when that is ambiguous)."""
        return "{{ " + self.scope.current + " }}" if self.scope.current else {}

    def placeholder(self, kind: str, name: str | None) -> str:
        """A ``{{ vars.<kind>_<name> }}`` reference standing for something chosen after import.

        The variable is declared (empty) in the definition so one value can serve every node using it.
        """
        variable = f"{kind}_{slug(name or self.node_id, MAX_ID_LENGTH - len(kind) - 1)}"
        self.variables.setdefault(variable, "")
        return "{{ vars." + variable + " }}"

    def credential_placeholder(self) -> str:
        """A placeholder for a credential that must be chosen again, shared by nodes of one n8n credential."""
        credentials = self.node.raw.get("credentials")
        name = None
        if isinstance(credentials, Mapping):
            for credential in credentials.values():
                if isinstance(credential, Mapping) and isinstance(credential.get("name"), str):
                    name = credential["name"]
                    break
        return self.placeholder("credential", name)


@dataclass(frozen=True)
class Spec:
    """How one n8n node type converts.

    ``data`` says where the node's n8n items (what ``$json`` means after it) live
    in Flowbuilder: ``"input"`` (a trigger's data), ``"output"`` (``steps.<id>.output``),
    ``"body"`` (``steps.<id>.output.body``), ``"through"`` (the node passes its
    input on, so its predecessor's items), or ``"unknown"``.
    """

    convert: Callable[[Source], Converted]
    data: str = "output"
    trigger: bool = False


def stringified(value: Any) -> Any:
    """Header maps hold strings: other JSON values are encoded."""
    if isinstance(value, dict):
        return {key: item if isinstance(item, str) else json.dumps(item) for key, item in value.items()}
    return value


def slug(name: str, limit: int = MAX_ID_LENGTH) -> str:
    """``"Send Email #2"`` → ``"send_email_2"``: lowercase ASCII letters, digits and ``_``."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", ascii_name.lower()).strip("_")[:limit].strip("_") or "node"


def port_name(label: str, fallback: str) -> str:
    """A valid port from an n8n output label (``"First Output"`` → ``"first_output"``)."""
    port = slug(label, 64)
    if port == "node":
        return fallback
    if not port[0].isalpha():
        port = f"_{port}"[:64]
    return port if PORT_PATTERN.match(port) else fallback
