"""The asyncio client: the same surface as the sync one, awaited."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from conftest import simple_definition, slow_definition

from flowbuilder_client import AsyncFlowbuilder, NotFoundError, ValidationError, models


def test_create_execute_wait_stream_and_list(account: tuple[str, str]) -> None:
    async def scenario() -> None:
        async with AsyncFlowbuilder(token=account[1], page_size=2) as fb:
            tag = uuid.uuid4().hex[:8]
            wf = await fb.workflows.create(name=f"{tag}-doubler", definition=simple_definition())
            run = await fb.workflows.execute(wf.id, input_data={"n": 4})
            done = await fb.executions.wait(run.id, timeout=60)
            assert (done.status, done.output_data) == ("completed", {"result": 8})
            logs = [line async for line in fb.executions.logs(run.id)]
            assert all(isinstance(line, models.ExecutionLog) for line in logs)

            slow = await fb.workflows.create(name=f"{tag}-slow", definition=slow_definition(seconds=1))
            going = await fb.workflows.execute(slow.id, input_data={})
            events = [event async for event in fb.executions.stream(going.id)]
            assert events[0]["type"] == "snapshot"
            assert events[-1]["type"] == "execution_completed"

            names = sorted([w.name async for w in fb.workflows.list(search=tag)])
            assert names == [f"{tag}-doubler", f"{tag}-slow"]

            # Several requests at once on one client.
            details = await asyncio.gather(*(fb.executions.get(i) for i in (run.id, going.id)))
            assert [d.status for d in details] == ["completed", "completed"]

    asyncio.run(scenario())


def test_errors_are_the_same_exceptions(account: tuple[str, str]) -> None:
    async def scenario() -> None:
        async with AsyncFlowbuilder(token=account[1]) as fb:
            with pytest.raises(NotFoundError):
                await fb.executions.get(str(uuid.uuid4()))
            with pytest.raises(NotFoundError):
                async for _ in fb.executions.stream(str(uuid.uuid4())):
                    pass
            wf = await fb.workflows.create(name="doubler", definition=simple_definition())
            with pytest.raises(ValidationError) as caught:
                await fb.workflows.execute(wf.id, idempotency_key="k" * 1000)
            assert caught.value.details[0]["field"] == "Idempotency-Key"

    asyncio.run(scenario())
