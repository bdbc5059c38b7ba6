"""Template writes: create, update, delete, instantiate, save a workflow as a template, seed the gallery.

A template is checked when it is saved: its parameters' declarations, its placeholders (each
must be replaceable safely, see :mod:`templates_app.substitution`), and a trial instantiation
with the defaults (or a sample of each type for required parameters without one) that must
validate as a workflow wherever the result does not depend on a sampled value. Instantiating
checks and coerces the values, substitutes them and creates the workflows through
:func:`workflows.services.workflow_create`, all in one transaction: on any problem nothing is
created and the error points at the parameter (``parameter_values.<name>``).
"""

from __future__ import annotations

import dataclasses
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import F

from accounts.models import User
from executions.engine.definition import normalize
from flowbuilder.api.errors import ValidationFailed
from templates_app import parameters as params
from templates_app.models import Template, TemplateParameter
from templates_app.parameters import ParameterSpec
from templates_app.substitution import (
    COMPANIONS,
    PlaceholderError,
    Substitution,
    placeholder_problems,
    replace_literals,
    substitute,
)
from workflows.models import Workflow
from workflows.services import definition_validate, workflow_create

MAX_COMPANIONS = 5
KEY_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
Problem = dict[str, Any]


@dataclass(frozen=True)
class Checked:
    """A template's content after the checks: canonical definitions, its parameters."""

    definition: dict[str, Any]
    companions: list[dict[str, Any]]
    parameters: list[ParameterSpec]


@dataclass
class Instantiation:
    workflow: Workflow
    companions: list[tuple[str, Workflow]] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)


# --- checks -------------------------------------------------------------------------------


def _canonical_definition(raw: Any, where: str, problems: list[Problem]) -> dict[str, Any] | None:
    if not isinstance(raw, Mapping):
        problems.append({"field": where, "message": "A definition is an object with 'nodes' and 'edges'"})
        return None
    definition = normalize(raw).definition
    if not isinstance(definition.get("nodes"), list) or not definition["nodes"]:
        problems.append({"field": f"{where}.nodes", "message": "A definition needs a non-empty list of nodes"})
        return None
    return definition


def _canonical_companions(raw: Any, problems: list[Problem]) -> list[dict[str, Any]]:
    if raw in (None, ""):
        return []
    if not isinstance(raw, list):
        problems.append({"field": "companions", "message": "A list of {key, name, description, definition}"})
        return []
    if len(raw) > MAX_COMPANIONS:
        problems.append({"field": "companions", "message": f"At most {MAX_COMPANIONS} companion workflows"})
        return []
    result, keys = [], set()
    for index, item in enumerate(raw):
        where = f"companions[{index}]"
        if not isinstance(item, Mapping):
            problems.append(
                {"field": where, "message": "A companion is an object {key, name, description, definition}"}
            )
            continue
        key = item.get("key")
        if not isinstance(key, str) or not KEY_PATTERN.match(key):
            problems.append(
                {
                    "field": f"{where}.key",
                    "message": "A key starts with a letter or _ and has only letters, digits and _",
                }
            )
        elif key in keys:
            problems.append({"field": f"{where}.key", "message": f"Another companion already has the key '{key}'"})
        keys.add(key)
        name = item.get("name", key)
        if not isinstance(name, str) or not name.strip() or len(name) > 150:
            problems.append({"field": f"{where}.name", "message": "A name of 1 to 150 characters"})
        description = item.get("description", "")
        if not isinstance(description, str):
            problems.append({"field": f"{where}.description", "message": "A string"})
        definition = _canonical_definition(item.get("definition"), f"{where}.definition", problems)
        result.append({"key": key, "name": name, "description": description, "definition": definition})
    return result


def _trial_values(specs: Sequence[ParameterSpec]) -> tuple[dict[str, Any], set[str]]:
    """Defaults, or a sample for required parameters without one; and the names that were sampled."""
    values: dict[str, Any] = {}
    sampled: set[str] = set()
    for spec in specs:
        if spec.default_value is not None:
            values[spec.name] = params.coerce(spec, spec.default_value)
        elif spec.is_required:
            values[spec.name] = params.sample(spec)
            sampled.add(spec.name)
        else:
            values[spec.name] = None
    return values, sampled


def _rebase(path: str | None, base: str) -> str | None:
    if path is None or base == "definition":
        return path
    return base + path[len("definition") :] if path.startswith("definition") else path


def _trial_problems(
    definition: dict[str, Any],
    base: str,
    values: dict[str, Any],
    sampled: set[str],
    specs: Sequence[ParameterSpec],
    owner: User | None,
) -> list[Problem]:
    try:
        result = substitute(definition, values, base="definition")
    except PlaceholderError as exc:
        return [{"field": _rebase(exc.path, base), "message": exc.message}]
    report = definition_validate(definition=result.definition, owner=owner)
    position = {spec.name: index for index, spec in enumerate(specs)}
    problems = []
    for error in report.errors:
        names = result.names_at(error["field"] or "")
        if names and names <= sampled | {n for n in names if n.startswith(f"{COMPANIONS}.")}:
            continue  # depends on a value the caller will choose
        defaults = sorted(name for name in names if name in position and name not in sampled)
        if defaults:
            for name in defaults:
                problems.append(
                    {
                        "field": f"parameters[{position[name]}].default_value",
                        "message": f"With this default, {_rebase(error['field'], base)}: {error['message']}",
                    }
                )
        else:
            problems.append({"field": _rebase(error["field"], base), "message": error["message"]})
    return problems


def template_check(
    *, definition: Any, parameters: Sequence[ParameterSpec], companions: Any = (), owner: User | None = None
) -> Checked:
    """Check a template's content; raises ValidationFailed with every problem found.

    Problems point at ``definition…``, ``companions[i]…`` or ``parameters[i]…``.
    """
    specs = list(parameters)
    problems = params.declaration_problems(specs)
    canonical = _canonical_definition(definition, "definition", problems)
    companion_list = _canonical_companions(list(companions) if isinstance(companions, tuple) else companions, problems)
    if problems or canonical is None:
        raise ValidationFailed("The template is invalid", details=problems)

    names = {spec.name for spec in specs}
    available: set[str] = set()
    for index, companion in enumerate(companion_list):
        problems += placeholder_problems(
            companion["definition"], names | available, base=f"companions[{index}].definition"
        )
        available.add(f"{COMPANIONS}.{companion['key']}")
    problems += placeholder_problems(canonical, names | available)
    if problems:
        raise ValidationFailed("The template is invalid", details=problems)

    values, sampled = _trial_values(specs)
    for companion in companion_list:
        values[f"{COMPANIONS}.{companion['key']}"] = str(uuid.uuid4())
    for index, companion in enumerate(companion_list):
        problems += _trial_problems(
            companion["definition"], f"companions[{index}].definition", values, sampled, specs, owner
        )
    problems += _trial_problems(canonical, "definition", values, sampled, specs, owner)
    if problems:
        raise ValidationFailed("The template would not make a valid workflow", details=problems)
    return Checked(definition=canonical, companions=companion_list, parameters=specs)


# --- writes ---------------------------------------------------------------------------------


def _save_parameters(template: Template, specs: Iterable[ParameterSpec]) -> None:
    template.parameters.all().delete()
    TemplateParameter.objects.bulk_create(
        TemplateParameter(
            template=template,
            name=spec.name,
            description=spec.description,
            parameter_type=spec.parameter_type,
            is_required=spec.is_required,
            default_value=spec.default_value,
            choices=list(spec.choices),
            position=position,
        )
        for position, spec in enumerate(specs)
    )


@transaction.atomic
def template_create(
    *,
    owner: User | None,
    name: str,
    definition: Any,
    description: str = "",
    category: str = "",
    parameters: Sequence[ParameterSpec] = (),
    companions: Any = (),
    is_active: bool = True,
    is_builtin: bool = False,
    key: str | None = None,
    source_workflow: Workflow | None = None,
) -> Template:
    """A new template; a built-in one belongs to nobody. Raises ValidationFailed (see template_check)."""
    checked = template_check(definition=definition, parameters=parameters, companions=companions, owner=owner)
    return _create(
        checked,
        owner=owner,
        name=name,
        description=description,
        category=category,
        is_active=is_active,
        is_builtin=is_builtin,
        key=key,
        source_workflow=source_workflow,
    )


def _create(
    checked: Checked,
    *,
    owner: User | None,
    name: str,
    description: str,
    category: str,
    is_active: bool = True,
    is_builtin: bool = False,
    key: str | None = None,
    source_workflow: Workflow | None = None,
) -> Template:
    template = Template.objects.create(
        key=key,
        owner=None if is_builtin else owner,
        is_builtin=is_builtin,
        name=name,
        description=description,
        category=category,
        definition=checked.definition,
        companions=checked.companions,
        is_active=is_active,
        source_workflow=source_workflow,
    )
    _save_parameters(template, checked.parameters)
    return template


@transaction.atomic
def template_update(
    *,
    template: Template,
    name: str | None = None,
    description: str | None = None,
    category: str | None = None,
    definition: Any = None,
    parameters: Sequence[ParameterSpec] | None = None,
    companions: Any = None,
    is_active: bool | None = None,
) -> Template:
    """Apply the given fields; the template's content is checked again as a whole."""
    locked = Template.objects.select_for_update().get(pk=template.pk)
    for field_name, value in (
        ("name", name),
        ("description", description),
        ("category", category),
        ("is_active", is_active),
    ):
        if value is not None:
            setattr(locked, field_name, value)
    if definition is not None or parameters is not None or companions is not None:
        specs = (
            list(parameters)
            if parameters is not None
            else [ParameterSpec.of(parameter) for parameter in locked.parameters.all()]
        )
        checked = template_check(
            definition=definition if definition is not None else locked.definition,
            parameters=specs,
            companions=companions if companions is not None else locked.companions,
            owner=locked.owner,
        )
        locked.definition = checked.definition
        locked.companions = checked.companions
        if parameters is not None:
            _save_parameters(locked, checked.parameters)
    locked.save()
    return locked


@transaction.atomic
def template_delete(*, template: Template) -> None:
    template.delete()


# --- instantiation --------------------------------------------------------------------------


def _mapped_problems(errors: Iterable[Problem], substitution: Substitution, base: str) -> list[Problem]:
    """Validation errors of a substituted definition, pointed at the parameters they come from."""
    problems = []
    for error in errors:
        where = _rebase(error.get("field"), base)
        names = sorted(n for n in substitution.names_at(error.get("field") or "") if not n.startswith(f"{COMPANIONS}."))
        if names:
            problems += [
                {"field": f"parameter_values.{name}", "message": f"{error['message']} (at {where})"} for name in names
            ]
        else:
            problems.append({"field": where, "message": f"{error['message']} (the template's definition)"})
    return problems


def _substituted(
    definition: dict[str, Any], values: Mapping[str, Any], base: str, owner: User
) -> tuple[Substitution, Any]:
    try:
        result = substitute(definition, values)
    except PlaceholderError as exc:
        raise ValidationFailed(
            "The template cannot be used: a placeholder in it cannot be replaced safely",
            details=[{"field": _rebase(exc.path, base), "message": exc.message}],
        ) from None
    report = definition_validate(definition=result.definition, owner=owner)
    if not report.valid:
        raise ValidationFailed(
            "The workflow made from the template with these values is invalid",
            details=_mapped_problems(report.errors, result, base),
        )
    return result, report


@transaction.atomic
def template_instantiate(
    *,
    template: Template,
    owner: User,
    parameter_values: Mapping[str, Any],
    name: str | None = None,
    description: str | None = None,
    is_active: bool = True,
    tags: Iterable[str] = (),
) -> Instantiation:
    """Make the template's workflow (and its companions, first) for ``owner``.

    Raises ValidationFailed, creating nothing, for values that are unknown, missing, of the
    wrong type or not among the choices, and for a result that does not validate; problems
    point at ``parameter_values.<name>``. Counts the use atomically.
    """
    if not template.is_active:
        raise ValidationFailed("This template is inactive and cannot be used", field="template")
    specs = [ParameterSpec.of(parameter) for parameter in template.parameters.all()]
    values, problems = params.resolve_values(specs, parameter_values)
    if problems:
        raise ValidationFailed("The parameter values are invalid", details=problems)

    name = (name or template.name)[:200]
    description = template.description if description is None else description
    tags = list(tags)
    created: list[tuple[str, Workflow]] = []
    for index, companion in enumerate(template.companions or []):
        _, report = _substituted(companion["definition"], values, f"companions[{index}].definition", owner)
        child = workflow_create(
            owner=owner,
            name=f"{name} · {companion['name']}"[:200],
            description=companion.get("description", ""),
            category=template.category,
            tags=tags,
            is_active=is_active,
            definition=report.definition,
            note=f"Created from template '{template.name}'",
        )
        created.append((companion["key"], child))
        values[f"{COMPANIONS}.{companion['key']}"] = str(child.pk)

    _, report = _substituted(template.definition, values, "definition", owner)
    workflow = workflow_create(
        owner=owner,
        name=name,
        description=description,
        category=template.category,
        tags=tags,
        is_active=is_active,
        definition=report.definition,
        note=f"Created from template '{template.name}'",
    )
    Template.objects.filter(pk=template.pk).update(usage_count=F("usage_count") + 1)
    return Instantiation(workflow=workflow, companions=created, warnings=report.warnings)


# --- save a workflow as a template ----------------------------------------------------------


def _replacement_problems(replace: Sequence[tuple[Any, str]], specs: Sequence[ParameterSpec]) -> list[Problem]:
    declared = {spec.name for spec in specs}
    problems = []
    for index, (literal, name) in enumerate(replace):
        if literal is None or literal == "" or (isinstance(literal, dict | list) and not literal):
            problems.append({"field": f"replace[{index}].value", "message": "A value to replace (not null or empty)"})
        if name not in declared:
            problems.append(
                {"field": f"replace[{index}].parameter", "message": f"'{name}' is not one of the parameters given"}
            )
    return problems


@transaction.atomic
def template_from_workflow(
    *,
    workflow: Workflow,
    owner: User,
    name: str,
    parameters: Sequence[ParameterSpec] = (),
    replace: Sequence[tuple[Any, str]] = (),
    description: str = "",
    category: str = "",
) -> Template:
    """A template of ``owner`` made from the workflow's current definition.

    Each ``(literal, parameter)`` of ``replace`` turns the literal into ``{{ parameter }}``
    wherever it occurs (see replace_literals); a parameter without a default gets the literal
    as its default. Raises ValidationFailed for a literal that does not occur, a parameter
    that is not declared, or a template that does not check (see template_check).
    """
    specs = list(parameters)
    problems = params.declaration_problems(specs) + _replacement_problems(replace, specs)
    if problems:
        raise ValidationFailed("The template is invalid", details=problems)
    definition, counts = replace_literals(workflow.definition, list(replace))
    for index, count in enumerate(counts):
        if not count:
            problems.append(
                {
                    "field": f"replace[{index}].value",
                    "message": "This value does not occur in the workflow's definition (script code and condition "
                    "expressions are not searched)",
                }
            )
    defaults = {}
    for index, (literal, parameter) in enumerate(replace):
        spec = next(spec for spec in specs if spec.name == parameter)
        if spec.default_value is None and parameter not in defaults:
            try:
                defaults[parameter] = params.coerce(spec, literal)
            except params.ParameterValueError as exc:
                problems.append({"field": f"replace[{index}].value", "message": f"Not a {spec.parameter_type}: {exc}"})
    if problems:
        raise ValidationFailed("The template is invalid", details=problems)
    specs = [
        dataclasses.replace(spec, default_value=defaults[spec.name]) if spec.name in defaults else spec
        for spec in specs
    ]
    return template_create(
        owner=owner,
        name=name,
        description=description,
        category=category,
        definition=definition,
        parameters=specs,
        source_workflow=workflow,
    )


# --- the gallery ----------------------------------------------------------------------------


@dataclass(frozen=True)
class BuiltinTemplate:
    """A template of the gallery, identified by ``key`` across releases."""

    key: str
    name: str
    description: str
    category: str
    definition: dict[str, Any]
    parameters: tuple[ParameterSpec, ...] = ()
    companions: tuple[dict[str, Any], ...] = ()


@dataclass
class SyncReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def _content(template: Template) -> tuple[Any, ...]:
    return (
        template.name,
        template.description,
        template.category,
        template.definition,
        template.companions,
        [ParameterSpec.of(parameter).as_dict() for parameter in template.parameters.all()],
    )


@transaction.atomic
def builtin_templates_sync(*, gallery: Iterable[BuiltinTemplate]) -> SyncReport:
    """Create or update the built-in templates by key, idempotently.

    Content (name, description, category, definition, companions, parameters) is replaced in
    place; ``is_active`` (staff may hide a built-in) and ``usage_count`` are kept. Raises
    ValidationFailed, writing nothing, when a gallery entry does not check.
    """
    report = SyncReport()
    for entry in gallery:
        checked = template_check(
            definition=entry.definition, parameters=entry.parameters, companions=list(entry.companions)
        )
        existing = Template.objects.select_for_update().filter(key=entry.key).first()
        if existing is None:
            _create(
                checked,
                owner=None,
                is_builtin=True,
                key=entry.key,
                name=entry.name,
                description=entry.description,
                category=entry.category,
            )
            report.created.append(entry.key)
            continue
        wanted = (
            entry.name,
            entry.description,
            entry.category,
            checked.definition,
            checked.companions,
            [spec.as_dict() for spec in checked.parameters],
        )
        if _content(existing) == wanted and existing.is_builtin and existing.owner_id is None:
            report.unchanged.append(entry.key)
            continue
        existing.is_builtin, existing.owner = True, None
        existing.name, existing.description, existing.category = entry.name, entry.description, entry.category
        existing.definition, existing.companions = checked.definition, checked.companions
        existing.save()
        _save_parameters(existing, checked.parameters)
        report.updated.append(entry.key)
    return report
