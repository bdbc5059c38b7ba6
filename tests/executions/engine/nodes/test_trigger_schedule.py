"""``trigger.schedule``: a five-field cron in an IANA zone; what cannot be a schedule is refused at save."""

from __future__ import annotations

import pytest

from executions.engine.validation import validate_definition
from tests.workflows.helpers import linear, node


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"cron": "61 * * * *"}, "definition.nodes[0].config.cron"),
        ({"cron": "0 9 * * *", "timezone": "Mars/Olympus"}, "definition.nodes[0].config.timezone"),
    ],
)
def test_a_bad_cron_or_zone_is_refused_at_its_field(config, field):
    report = validate_definition(linear(node("tick", "trigger.schedule", **config)))
    assert field in {problem["field"] for problem in report.errors}


def test_a_valid_schedule_passes():
    assert validate_definition(
        linear(node("tick", "trigger.schedule", cron="*/15 * * * 1-5", timezone="Europe/Paris"))
    ).valid
