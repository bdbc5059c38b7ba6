"""Parameter values: type checks and coercion, defaults, required, unknown names; declarations."""

from __future__ import annotations

import pytest

from templates_app.parameters import ParameterSpec, ParameterValueError, coerce, declaration_problems, resolve_values


@pytest.mark.parametrize(
    ("parameter_type", "value", "expected"),
    [
        ("string", "text", "text"),
        ("string", 42, "42"),
        ("number", 3, 3),
        ("number", "42", 42),
        ("number", " -2.5 ", -2.5),
        ("number", 5.0, 5),
        ("boolean", True, True),
        ("boolean", "yes", True),
        ("boolean", "False", False),
        ("boolean", 0, False),
        ("email", " ada@example.com ", "ada@example.com"),
        ("url", "https://example.com/a?b=1", "https://example.com/a?b=1"),
        ("json", {"a": [1, None]}, {"a": [1, None]}),
        ("json", "just text", "just text"),
    ],
)
def test_values_are_coerced(parameter_type, value, expected):
    result = coerce(ParameterSpec(name="p", parameter_type=parameter_type), value)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(
    ("parameter_type", "value", "message"),
    [
        ("string", {"a": 1}, "Expected a string, got an object"),
        ("string", True, "Expected a string, got a boolean"),
        ("number", "many", "'many' is not a number"),
        ("number", True, "Expected a number, got a boolean"),
        ("number", "nan", "Expected a finite number"),
        ("boolean", "maybe", 'Expected true or false, got "maybe"'),
        ("boolean", 2, "Expected true or false, got 2"),
        ("email", "not-an-address", "'not-an-address' is not a valid e-mail address"),
        ("email", 5, "Expected an e-mail address, got a number"),
        ("url", "ftp://example.com/", "'ftp://example.com/' is not a valid http(s) URL"),
        ("url", "example.com", "'example.com' is not a valid http(s) URL"),
    ],
)
def test_wrong_values_say_why(parameter_type, value, message):
    with pytest.raises(ParameterValueError) as caught:
        coerce(ParameterSpec(name="p", parameter_type=parameter_type), value)
    assert str(caught.value) == message


def test_enum_values_must_be_among_the_choices():
    spec = ParameterSpec(name="p", parameter_type="enum", choices=("EUR", "USD", 2))
    assert coerce(spec, "USD") == "USD"
    assert coerce(spec, "2") == 2  # a form sends text
    with pytest.raises(ParameterValueError) as caught:
        coerce(spec, "eur")
    assert str(caught.value) == '"eur" is not one of the choices: "EUR", "USD", 2'


def test_resolve_applies_defaults_and_reports_every_problem():
    specs = [
        ParameterSpec(name="to", parameter_type="email", is_required=True),
        ParameterSpec(name="count", parameter_type="number", default_value=3),
        ParameterSpec(name="title", is_required=True, default_value="Report"),
        ParameterSpec(name="note"),
    ]
    values, problems = resolve_values(specs, {"count": None, "extra": 1})
    assert values == {"to": None, "count": 3, "title": "Report", "note": None}
    assert problems == [
        {
            "field": "parameter_values.extra",
            "message": "The template has no parameter 'extra'; the parameters are: count, note, title, to",
        },
        {"field": "parameter_values.to", "message": "This parameter is required"},
    ]
    values, problems = resolve_values(specs, {"to": "a@example.com", "count": "7"})
    assert problems == []
    assert values["count"] == 7


def test_declarations_are_checked():
    specs = [
        ParameterSpec(name="1bad"),
        ParameterSpec(name="input"),
        ParameterSpec(name="ok"),
        ParameterSpec(name="ok"),
        ParameterSpec(name="level", parameter_type="enum"),
        ParameterSpec(name="size", parameter_type="number", default_value="big"),
        ParameterSpec(name="plain", choices=("a",)),
        ParameterSpec(name="pick", parameter_type="enum", choices=("a", "a", {"x": 1})),
    ]
    assert declaration_problems(specs) == [
        {
            "field": "parameters[0].name",
            "message": "A name starts with a letter or _ and has only letters, digits and _ (at most 64)",
        },
        {"field": "parameters[1].name", "message": "'input' is reserved; choose another name"},
        {"field": "parameters[3].name", "message": "Another parameter is already named 'ok'"},
        {"field": "parameters[4].choices", "message": "An enum needs at least one choice"},
        {"field": "parameters[5].default_value", "message": "'big' is not a number"},
        {"field": "parameters[6].choices", "message": "Only enum parameters have choices"},
        {"field": "parameters[7].choices[1]", "message": '"a" is listed twice'},
        {"field": "parameters[7].choices[2]", "message": "A choice is a string, number or boolean"},
    ]
