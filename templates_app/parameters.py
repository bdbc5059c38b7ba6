"""Template parameters: their declaration, and checking and coercing the values given for them.

A value is checked against its parameter's type and coerced to the JSON value stored in the
workflow: ``"42"`` for a number becomes ``42``, ``"yes"`` for a boolean ``True``, an e-mail
address is trimmed. Every problem is reported at ``parameter_values.<name>``.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import EmailValidator, URLValidator

from templates_app.models import TemplateParameter

Type = TemplateParameter.Type

NAME_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
# Names templates see at run time, Jinja's globals and literals, and the companions' namespace:
# a parameter called ``input`` would make ``{{ input }}`` mean two things.
RESERVED_NAMES = frozenset(
    {
        "input",
        "steps",
        "vars",
        "execution",
        "credentials",
        "item",
        "index",
        "loop",
        "companions",
        "self",
        "super",
        "caller",
        "varargs",
        "kwargs",
        "range",
        "dict",
        "lipsum",
        "cycler",
        "joiner",
        "namespace",
        "true",
        "false",
        "none",
        "True",
        "False",
        "None",
    }
)
MAX_PARAMETERS = 50
MAX_CHOICES = 100
MAX_TEXT_LENGTH = 10_000
MAX_JSON_BYTES = 100_000
TRUE_WORDS = frozenset({"true", "yes", "on", "1"})
FALSE_WORDS = frozenset({"false", "no", "off", "0"})

# A sample of each type, used to try a template whose required parameters have no default.
SAMPLES: dict[str, Any] = {
    Type.STRING: "example",
    Type.NUMBER: 1,
    Type.BOOLEAN: True,
    Type.EMAIL: "someone@example.com",
    Type.URL: "https://example.com/",
    Type.JSON: {},
}

_email = EmailValidator()
_url = URLValidator(schemes=["http", "https"])


@dataclass(frozen=True)
class ParameterSpec:
    """A parameter as the services see it (a saved TemplateParameter, or one about to be)."""

    name: str
    parameter_type: str = Type.STRING
    description: str = ""
    is_required: bool = False
    default_value: Any = None
    choices: tuple[Any, ...] = field(default_factory=tuple)

    @classmethod
    def of(cls, parameter: TemplateParameter) -> ParameterSpec:
        return cls(
            name=parameter.name,
            parameter_type=parameter.parameter_type,
            description=parameter.description,
            is_required=parameter.is_required,
            default_value=parameter.default_value,
            choices=tuple(parameter.choices or ()),
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "parameter_type": self.parameter_type,
            "is_required": self.is_required,
            "default_value": self.default_value,
            "choices": list(self.choices),
        }


class ParameterValueError(Exception):
    """A value that does not fit its parameter; the message says why."""


def _number(value: Any) -> int | float:
    if isinstance(value, bool):
        raise ParameterValueError("Expected a number, got a boolean")
    if isinstance(value, str):
        text = value.strip()
        try:
            value = int(text) if re.fullmatch(r"[+-]?\d+", text) else float(text)
        except ValueError:
            raise ParameterValueError(f"'{value}' is not a number") from None
    if not isinstance(value, int | float):
        raise ParameterValueError(f"Expected a number, got {_json_type(value)}")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ParameterValueError("Expected a finite number")
        if value.is_integer():
            return int(value)
    return value


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in TRUE_WORDS | FALSE_WORDS:
        return value.strip().lower() in TRUE_WORDS
    raise ParameterValueError(f"Expected true or false, got {_describe(value)}")


def _string(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ParameterValueError(f"Expected a string, got {_json_type(value)}")
    text = value if isinstance(value, str) else json.dumps(value)
    if len(text) > MAX_TEXT_LENGTH:
        raise ParameterValueError(f"At most {MAX_TEXT_LENGTH:,} characters")
    return text


def _email_address(value: Any) -> str:
    if not isinstance(value, str):
        raise ParameterValueError(f"Expected an e-mail address, got {_json_type(value)}")
    text = value.strip()
    try:
        _email(text)
    except DjangoValidationError:
        raise ParameterValueError(f"'{value}' is not a valid e-mail address") from None
    return text


def _url_value(value: Any) -> str:
    if not isinstance(value, str):
        raise ParameterValueError(f"Expected a URL, got {_json_type(value)}")
    text = value.strip()
    try:
        _url(text)
    except DjangoValidationError:
        raise ParameterValueError(f"'{value}' is not a valid http(s) URL") from None
    return text


def _enum(value: Any, choices: Iterable[Any]) -> Any:
    options = list(choices)
    for choice in options:
        if value == choice and type(value) is type(choice):
            return choice
    # A form sends text: "2" picks the choice 2.
    if isinstance(value, str):
        for choice in options:
            if not isinstance(choice, str) and json.dumps(choice) == value.strip():
                return choice
    allowed = ", ".join(json.dumps(choice) for choice in options)
    raise ParameterValueError(f"{_describe(value)} is not one of the choices: {allowed}")


def _json(value: Any) -> Any:
    try:
        size = len(json.dumps(value, separators=(",", ":")))
    except (TypeError, ValueError):
        raise ParameterValueError("Expected a JSON value") from None
    if size > MAX_JSON_BYTES:
        raise ParameterValueError(f"The value is {size:,} bytes; the limit is {MAX_JSON_BYTES:,}")
    return value


def coerce(spec: ParameterSpec, value: Any) -> Any:
    """``value`` as the parameter's type; raises ParameterValueError saying why it does not fit."""
    kind = spec.parameter_type
    if kind == Type.NUMBER:
        return _number(value)
    if kind == Type.BOOLEAN:
        return _boolean(value)
    if kind == Type.EMAIL:
        return _email_address(value)
    if kind == Type.URL:
        return _url_value(value)
    if kind == Type.ENUM:
        return _enum(value, spec.choices)
    if kind == Type.JSON:
        return _json(value)
    return _string(value)


def sample(spec: ParameterSpec) -> Any:
    """A value of the parameter's type, for trying a template out."""
    if spec.parameter_type == Type.ENUM:
        return spec.choices[0] if spec.choices else None
    return SAMPLES[spec.parameter_type]


def resolve_values(specs: Iterable[ParameterSpec], given: Mapping[str, Any]) -> tuple[dict[str, Any], list[dict]]:
    """The value of every parameter (given, else its default, else None) and the problems.

    Problems are ``{field: "parameter_values.<name>", message}``: a name that is not a
    parameter, a value of the wrong type or not among the choices, and a required parameter
    with neither a value nor a default. A given ``null`` counts as not given.
    """
    specs = list(specs)
    known = {spec.name: spec for spec in specs}
    problems: list[dict[str, Any]] = []
    for name in given:
        if name not in known:
            hint = f"; the parameters are: {', '.join(sorted(known))}" if known else "; it has none"
            problems.append(
                {"field": f"parameter_values.{name}", "message": f"The template has no parameter '{name}'{hint}"}
            )
    values: dict[str, Any] = {}
    for spec in specs:
        raw = given.get(spec.name)
        if raw is None:
            raw = spec.default_value
        if raw is None:
            if spec.is_required:
                problems.append({"field": f"parameter_values.{spec.name}", "message": "This parameter is required"})
            values[spec.name] = None
            continue
        try:
            values[spec.name] = coerce(spec, raw)
        except ParameterValueError as exc:
            problems.append({"field": f"parameter_values.{spec.name}", "message": str(exc)})
    return values, problems


def declaration_problems(specs: list[ParameterSpec], base: str = "parameters") -> list[dict[str, Any]]:
    """What is wrong with the declarations themselves: names, duplicates, choices, defaults."""
    problems: list[dict[str, Any]] = []
    if len(specs) > MAX_PARAMETERS:
        return [{"field": base, "message": f"At most {MAX_PARAMETERS} parameters"}]
    seen: set[str] = set()
    for index, spec in enumerate(specs):
        where = f"{base}[{index}]"
        if not NAME_PATTERN.match(spec.name):
            problems.append(
                {
                    "field": f"{where}.name",
                    "message": "A name starts with a letter or _ and has only letters, digits and _ (at most 64)",
                }
            )
        elif spec.name in RESERVED_NAMES:
            problems.append({"field": f"{where}.name", "message": f"'{spec.name}' is reserved; choose another name"})
        elif spec.name in seen:
            problems.append({"field": f"{where}.name", "message": f"Another parameter is already named '{spec.name}'"})
        seen.add(spec.name)
        if spec.parameter_type not in Type.values:
            problems.append({"field": f"{where}.parameter_type", "message": f"Unknown type '{spec.parameter_type}'"})
            continue
        if spec.parameter_type == Type.ENUM:
            problems.extend(_choice_problems(spec.choices, f"{where}.choices"))
        elif spec.choices:
            problems.append({"field": f"{where}.choices", "message": "Only enum parameters have choices"})
        if spec.default_value is not None and not any(p["field"].startswith(f"{where}.choices") for p in problems):
            try:
                coerce(spec, spec.default_value)
            except ParameterValueError as exc:
                problems.append({"field": f"{where}.default_value", "message": str(exc)})
    return problems


def _choice_problems(choices: tuple[Any, ...], where: str) -> list[dict[str, Any]]:
    if not choices:
        return [{"field": where, "message": "An enum needs at least one choice"}]
    if len(choices) > MAX_CHOICES:
        return [{"field": where, "message": f"At most {MAX_CHOICES} choices"}]
    problems = []
    seen: list[Any] = []
    for index, choice in enumerate(choices):
        if isinstance(choice, dict | list) or choice is None:
            problems.append({"field": f"{where}[{index}]", "message": "A choice is a string, number or boolean"})
        elif any(choice == other and type(choice) is type(other) for other in seen):
            problems.append({"field": f"{where}[{index}]", "message": f"{json.dumps(choice)} is listed twice"})
        seen.append(choice)
    return problems


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _describe(value: Any) -> str:
    text = json.dumps(value) if isinstance(value, str | int | float | bool) or value is None else _json_type(value)
    return text if len(text) <= 80 else text[:77] + "…"
