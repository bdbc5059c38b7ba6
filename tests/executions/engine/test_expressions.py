"""Expressions: sandboxed Jinja in config strings, typed whole-string values, safe failures."""

from __future__ import annotations

import pytest

from executions.engine import expressions
from executions.engine.expressions import (
    ExpressionError,
    build_context,
    evaluate,
    find_syntax_errors,
    is_template,
    referenced_steps,
    render,
    syntax_error,
)


@pytest.fixture
def context() -> dict:
    return build_context(
        input={"items": [1, 2, 3], "name": "Ann", "flag": True},
        steps={
            "a": {"output": {"count": 3, "user": {"id": 7}}, "status": "completed"},
            "fetch-data": {"output": {"body": "ok"}, "status": "completed"},
        },
        variables={"greeting": "Hello"},
        execution={"id": "exec-1", "started_at": "2024-01-01T00:00:00Z"},
        extra={"item": {"sku": "X1"}, "index": 2},
    )


def render_error(text: str, context: dict) -> ExpressionError:
    with pytest.raises(ExpressionError) as info:
        render(text, context)
    return info.value


# -- typing --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{{ steps.a.output.count }}", 3),
        ("{{ input.flag }}", True),
        ("{{ input.items }}", [1, 2, 3]),
        ("{{ steps.a.output.user }}", {"id": 7}),
        ("{{ none }}", None),
        ("{{ steps.a.output.count > 2 }}", True),
        ("{{ input['items'] | map('string') }}", ["1", "2", "3"]),  # lazy values become data
        ("{{ input | tojson }}", '{"flag": true, "items": [1, 2, 3], "name": "Ann"}'),
        ("{{ '[1, {\"a\": 2}]' | fromjson }}", [1, {"a": 2}]),
        ("{{ 'héllo' | b64encode }}", "aMOpbGxv"),
        ("{{ 'aMOpbGxv' | b64decode }}", "héllo"),
        ("{{ item.sku }}-{{ index }}", "X1-2"),
        ("{{ vars.greeting }}, {{ input.name }}!", "Hello, Ann!"),
        ("count: {{ steps.a.output.count }}", "count: 3"),
        ("{{ 1 }}{{ 2 }}", "12"),
        ("{% if input.flag %}yes{% endif %}", "yes"),
        ("{{ execution.id }}\n", "exec-1\n"),  # text is kept as written, trailing newline included
        ("{# note #}{{ index }}", 2),
        ("no template", "no template"),
    ],
)
def test_render_string(context, text, expected):
    result = render(text, context)
    assert result == expected
    assert type(result) is type(expected)


def test_whole_string_values_do_not_alias_the_context(context):
    items = render("{{ input.items }}", context)
    items.append(4)
    assert context["input"]["items"] == [1, 2, 3]


def test_templates_are_compiled_once(context):
    expressions._compile.cache_clear()
    for _ in range(3):
        render("{{ index }} and {{ index }}", context)
        assert syntax_error("{{ index }} and {{ index }}") is None
    assert expressions._compile.cache_info().misses == 1


def test_render_nested_structure_keeps_keys_and_non_strings(context):
    config = {
        "url": "https://x/{{ steps.a.output.user.id }}",
        "{{ key }}": "{{ index }}",
        "retries": 3,
        "headers": {"X-Count": "{{ steps.a.output.count }}"},
        "items": ["{{ input.name }}", 1.5, None, {"deep": "{{ input.flag }}"}],
    }
    assert render(config, context) == {
        "url": "https://x/7",
        "{{ key }}": 2,
        "retries": 3,
        "headers": {"X-Count": 3},
        "items": ["Ann", 1.5, None, {"deep": True}],
    }


def test_render_skip_copies_top_level_keys_as_they_are(context):
    config = {"code": "{{ not rendered }", "label": "{{ input.name }}", "nested": {"code": "{{ index }}"}}
    assert render(config, context, skip=frozenset({"code"})) == {
        "code": "{{ not rendered }",
        "label": "Ann",
        "nested": {"code": 2},
    }


@pytest.mark.parametrize(
    ("config", "path"),
    [
        ({"headers": {"Authorization": "Bearer {{ credentials.token }}"}}, "config.headers.Authorization"),
        ({"items": ["a", "b", "{{ steps.nope.output }}"]}, "config.items[2]"),
        ({"cases": [{"equals": 1}, {"equals": "{{ 1 / 0 }}"}]}, "config.cases[1].equals"),
        ({"body": "{{ oops }"}, "config.body"),
    ],
)
def test_render_error_names_the_field(context, config, path):
    with pytest.raises(ExpressionError) as info:
        render(config, context)
    assert info.value.path == path
    assert str(info.value) == f"{path}: {info.value.message}"


def test_expression_error_without_path():
    assert str(ExpressionError("boom")) == "boom"


# -- undefined -----------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["{{ steps.nope.output }}", "{{ steps.nope }}", "x {{ [steps.nope] }}"])
def test_undefined_fails_clearly(context, text):
    assert "has no attribute 'nope'" in render_error(text, context).message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{{ steps.nope.output | default('none') }}", "none"),
        ("{{ input.missing | default(0) }}", 0),
        ("{{ 'yes' if steps.nope is defined else 'no' }}", "no"),
    ],
)
def test_default_and_defined_work_with_strict_undefined(context, text, expected):
    assert render(text, context) == expected


# -- safety --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{{ ''.__class__.__mro__ }}", "access to attribute '__class__' of 'str' object is not allowed"),
        ("{{ input.__class__ }}", "access to attribute '__class__' of 'dict' object is not allowed"),
        ("{{ cycler.__init__.__globals__ }}", "access to attribute '__init__' of 'type' object is not allowed"),
        ("{{ self._TemplateReference__context }}", "attribute '_TemplateReference__context'"),
        ("{{ ''.__class__.__mro__[1].__subclasses__() }}", "'__class__' of 'str' object is not allowed"),
        ("{{ input['items'] | attr('__class__') }}", "'__class__' of 'list' object is not allowed"),
        ("{{ '{0.__class__}'.format(1) }}", "'__class__' of 'int' object is not allowed"),
        ("{{ input['items'].append(4) }}", "attribute 'append' of 'list' object is not allowed"),
        ("{{ lipsum.__globals__ }}", "'lipsum' is undefined"),  # dropped: lipsum(n) allocates without bound
        ("{{ request }}", "'request' is undefined"),
        ("{{ config }}", "'config' is undefined"),
        ("{% include 'other' %}", "no loader"),
    ],
)
def test_injection_attempts_fail_safely(context, text, message):
    assert message in render_error(text, context).message
    assert context["input"]["items"] == [1, 2, 3]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{% for x in range(10**9) %}{% endfor %}", "Range too big"),
        ("{{ 'a' * 10**9 }}", "1,000,000,000 items or characters is not allowed"),
        ("{{ 10**9 * 'a' }}", "1,000,000,000 items or characters is not allowed"),
        ("{{ [1] * 10**9 }}", "1,000,000,000 items or characters is not allowed"),
        ("{{ 10 ** (10 ** 10) }}", "bits is not allowed"),
        ("{{ (2 ** 9000) * (2 ** 9000) }}", "bits is not allowed"),
        (
            "{% set ns = namespace(s='ab') %}{% for i in range(30) %}{% set ns.s = ns.s + ns.s %}{% endfor %}",
            "items or characters is not allowed",
        ),
        ("{% for i in range(2000) %}{{ 'a' * 999 }}{% endfor %}", "longer than 1,000,000 characters"),
        ("{% set a = [1] * 1000 %}{% set b = [a, a, a, a, a, a, a, a, a, a] %}{{ [b] * 1000 }}", "is not allowed"),
        ("{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}", "recursed too deeply"),
    ],
)
def test_resource_bombs_fail_safely(context, text, message):
    assert message in render_error(text, context).message


# The bombs of the hostile-input issue: each is refused before it allocates or spins, in milliseconds.
BIG_LIST = "(['x' * 1000000] * 1000000)"  # a million references to one string: cheap until printed


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "{% set s = namespace(v='a') %}{% for i in range(40) %}{% set s.v = s.v ~ s.v %}{% endfor %}",
            "a result of 1,048,576 items or characters is not allowed",
        ),
        ("{{ 'x' | center(200000000) }}", "a result of 200,000,000 items"),
        ("{{ '%200000000s' | format('x') }}", "a format width or precision over 1,000,000"),
        ("{{ '%200000000s' % 'x' }}", "a format width or precision over 1,000,000"),
        ("{{ '%*d' % (200000000, 1) }}", "a format width or precision over 1,000,000"),
        ("{{ '{:>200000000}'.format('x') }}", "a format width or precision over 1,000,000"),
        ("{{ '{:{w}}'.format('x', w=200000000) }}", "a format width or precision over 1,000,000"),
        ("{{ 'x' | indent(200000000) }}", "a result of 200,000,001 items"),
        ("{{ ('x' * 1000000) | replace('', 'yyyy') }}", "a result of 5,000,004 items"),
        ("{{ ('x' * 1000000).replace('x', 'yy') }}", "a result of 2,000,000 items"),
        ("{{ ('x' * 1000000) | wordwrap(1, wrapstring='yyyyyyyyyy') }}", "items or characters is not allowed"),
        ("{{ 'x'.center(200000000) }}", "a result of 200,000,000 items"),
        ("{{ 'x'.zfill(200000000) }}", "a result of 200,000,000 items"),
        ("{{ ('\t' * 1000) .expandtabs(100000) }}", "items or characters is not allowed"),
        ("{{ 'x'.translate({120: 'y' * 100}) }}", "'translate' of 'str' object is not allowed"),
        (f"{{{{ {BIG_LIST} | join }}}}", "more than 10,000,000 characters"),
        (f"{{{{ ','.join({BIG_LIST}) }}}}", "more than 1,000,000 characters"),
        (f"{{{{ {BIG_LIST} | tojson }}}}", "more than 10,000,000 characters"),
        (f"{{{{ {BIG_LIST} | upper }}}}", "more than 10,000,000 characters"),
        (f"{{{{ {BIG_LIST} ~ 'a' }}}}", "more than 1,000,000 characters"),
        (f"{{{{ '%s' % ({BIG_LIST},) }}}}", "more than 1,000,000 characters"),
        ("{{ [1] | batch(1000000000, 0) | list }}", "a result of 1,000,000,000 items"),
        ("{{ [1] | slice(1000000000) | list }}", "a result of 1,000,000,000 items"),
        ("{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}x", "loops ran more than"),
        ("{% for a in range(100000) %}{{ '' }}{% endfor %}{% for b in range(100000) %}{% endfor %}" * 6, "1,000,000"),
    ],
)
def test_expression_bombs_are_refused_before_they_allocate(context, text, message):
    assert message in render_error(text, context).message


def test_output_free_recursion_stops_at_the_time_limit(context, monkeypatch):
    monkeypatch.setattr("executions.engine.expression_limits.MAX_RENDER_SECONDS", 0.2)
    doubling = "{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(40) }}"
    assert "ran longer than the limit of one expression (0.2 s)" in render_error(doubling, context).message


def test_a_time_limit_covers_every_render_inside_it(context):
    from executions.engine.expression_limits import time_limit

    spin = "{% for a in range(100) %}{% for b in range(100) %}{{ '' }}{% endfor %}{% endfor %}"
    with time_limit(0, "the node's timeout_seconds"), pytest.raises(ExpressionError) as caught:
        render(spin, context)
    assert "ran longer than the node's timeout_seconds (0 s)" in caught.value.message
    assert render(spin, context) == ""  # outside it, the same template is fine


def test_iterations_are_counted_across_renders_of_one_budget(context):
    from executions.engine.expression_limits import time_limit

    loop = "{% for a in range(100000) %}{% endfor %}"
    with time_limit(60):
        for _ in range(10):
            render(loop, context)
        assert "loops ran more than 1,000,000 times" in render_error(loop, context).message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{{ 'a' ~ 1 ~ none }}", "a1None"),
        ("{% for i in range(3) %}{{ loop.index }}{{ '-' if not loop.last }}{% endfor %}", "1-2-3"),
        ("{% for i in [3, 1, 2] | sort %}{{ loop.length }}{% endfor %}", "333"),
        ("{{ '%5s|%-3d|%.2f' % ('ab', 7, 1.5) }}", "   ab|7  |1.50"),
        ("{{ '{:>4}-{:03d}'.format('a', 7) }}", "   a-007"),
        ("{{ 'a b' | replace(' ', '_') }}", "a_b"),
        ("{{ ['a', 'b'] | join(', ') }}", "a, b"),
        ("{{ 'ab' | center(6) }}", "  ab  "),
        ("{{ {'a': [1, 2]} | tojson }}", '{"a": [1, 2]}'),
        ("{{ ('x' * 900000) | length }}", 900000),
    ],
)
def test_bounded_operators_and_filters_still_work(context, text, expected):
    assert render(text, context) == expected


def test_power_is_left_associative_in_jinja(context):
    # Unlike Python, Jinja reads this as (10 ** 10) ** 10: harmless.
    assert render("{{ 10 ** 10 ** 10 }}", context) == 10**100


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{{ 1 / 0 }}", "ZeroDivisionError"),
        ("{{ 'a' + 1 }}", "TypeError"),
        ("{{ 'not json' | fromjson }}", "JSONDecodeError"),
        ("{{ '%%%' | b64decode }}", "Error"),
        ("{{ 10.0 ** 400 }}", "OverflowError"),
    ],
)
def test_other_rendering_errors_are_expression_errors(context, text, message):
    assert message in render_error(text, context).message


def test_memory_error_is_an_expression_error(context, monkeypatch):
    def exhausted(value: str) -> str:
        raise MemoryError

    monkeypatch.setitem(expressions._env.filters, "b64encode", exhausted)
    assert render_error("{{ 'x' | b64encode }}", context).message == "the expression needed too much memory"


def test_deeply_nested_template_is_a_syntax_error():
    nested = "".join(f"{{% for x{i} in [1] %}}" for i in range(25)) + "{% endfor %}" * 25
    assert "too deeply nested" in syntax_error(nested)
    assert "too deeply nested" in syntax_error("{{ " + "(" * 5000 + "1" + ")" * 5000 + " }}")


# -- evaluate ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("{{ steps.a.output.count > 1 }}", True),
        ("steps.a.output.count > 5", False),
        ("  input.name == 'Ann'  ", True),
        ("input['items'] | length", 3),
        ("steps['fetch-data'].output.body", "ok"),
    ],
)
def test_evaluate(context, expression, expected):
    assert evaluate(expression, context) == expected


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("{{ input.flag }} and {{ input.flag }}", "a condition must be a single"),
        ("steps.a.output.count >", "(line 1)"),
        ("steps.nope.output", "has no attribute 'nope'"),
        ("''.__class__", "is not allowed"),
    ],
)
def test_evaluate_errors(context, expression, message):
    with pytest.raises(ExpressionError) as info:
        evaluate(expression, context, path="config.condition")
    assert info.value.path == "config.condition"
    assert message in info.value.message


# -- static checks -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [("{{ x }}", True), ("{% if x %}{% endif %}", True), ("{# c #}", True), ("{ x }", False), ("plain", False)],
)
def test_is_template(text, expected):
    assert is_template(text) is expected


def test_syntax_error():
    assert syntax_error("{{ steps.a.output }}") is None
    assert syntax_error("{{ a }") == "unexpected '}' (line 1)"
    assert syntax_error("one\n{{ 1 + }}") == "unexpected 'end of print statement' (line 2)"
    assert syntax_error("{{ x | no_such_filter }}") == "No filter named 'no_such_filter'. (line 1)"


def test_find_syntax_errors_paths_and_skip():
    config = {
        "url": "https://x/{{ ok }}",
        "headers": {"X": "{{ a }"},
        "cases": [{"equals": "fine"}, {"equals": "{% if %}"}],
        "code": "{{ not a template for us",
        "count": 3,
    }
    errors = find_syntax_errors(config, "config", skip=frozenset({"code"}))
    assert [path for path, _ in errors] == ["config.headers.X", "config.cases[1].equals"]
    assert errors[0][1] == "unexpected '}' (line 1)"
    assert find_syntax_errors({"x": "{{ fine }}", "y": "{ not a template"}, "config") == []


def test_referenced_steps():
    config = {
        "url": "{{ steps.a.output.url }}/{{ steps['fetch-data'].output.id }}",
        "list": ['{{ steps["b"].output }}', "{% for row in steps.c.output %}{{ row }}{% endfor %}"],
        "methods": "{{ steps.get('x') }} {{ steps.items() | list }}",
        "broken": "{{ steps.d.output",
        "plain": "steps.e.output",
        "other": "{{ input.steps.f }} {{ stepsx.g }}",
        "number": 5,
    }
    assert referenced_steps(config) == {"a", "fetch-data", "b", "c"}


def test_build_context_defaults():
    assert build_context(input={"x": 1}, steps={}) == {
        "input": {"x": 1},
        "steps": {},
        "vars": {},
        "execution": {},
        "credentials": None,
    }


def test_credentials_in_context(context):
    with_secret = {**context, "credentials": {"token": "s3cret"}}
    assert render({"h": "Bearer {{ credentials.token }}"}, with_secret) == {"h": "Bearer s3cret"}
    assert "'None' has no attribute 'token'" in render_error("{{ credentials.token }}", context).message
