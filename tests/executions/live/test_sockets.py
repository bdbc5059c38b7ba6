"""The live sockets against the real Redis channel layer, with a real Celery worker producing the events."""

from __future__ import annotations

import uuid
from datetime import timedelta

import jwt
import pytest
from asgiref.sync import async_to_sync, sync_to_async
from rest_framework_simplejwt.tokens import AccessToken

from accounts.services import api_key_create
from executions import broadcast, selectors
from executions.models import Execution, StepRun
from tests.executions.live.helpers import Socket, start, token_for, wait_finished, wait_for, wait_status
from tests.factories import ExecutionFactory, WorkflowFactory
from tests.workflows.helpers import linear, node
from workflows.services import workflow_share

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def gated(gate, *, log: str = "") -> dict:
    """start -> hold (waits for the gate file) -> after -> end."""
    return linear(
        node("start", "trigger.manual"),
        node("hold", "test.slow", gate=str(gate), seconds=0, log=log or "held"),
        node("after", "test.slow", seconds=0.05, log="after the gate"),
        node("end", "transform", value="done"),
    )


def assert_in_order(messages, first_seq):
    seqs = [m["seq"] for m in messages]
    assert seqs == list(range(first_seq, first_seq + len(seqs))), seqs


def test_connect_mid_run_gets_the_snapshot_then_every_update_in_order(celery_worker, make_workflow, user, tmp_path):
    gate = tmp_path / "gate"
    execution = start(make_workflow(gated(gate)))
    wait_for_step(execution, "hold", StepRun.Status.RUNNING)
    token = token_for(user)

    async def scenario():
        async with Socket(f"/ws/executions/{execution.pk}/?token={token}") as ws:
            snapshot = await ws.receive()
            gate.touch()
            return snapshot, await ws.until_run_ends()

    snapshot, updates = async_to_sync(scenario)()
    assert snapshot["type"] == "snapshot"
    assert (snapshot["execution_id"], snapshot["status"]) == (str(execution.pk), "running")
    assert snapshot["steps"] == [
        {"node_id": "start", "status": "completed", "attempt": 1},
        {"node_id": "hold", "status": "running", "attempt": 1},
        {"node_id": "after", "status": "pending", "attempt": 0},
        {"node_id": "end", "status": "pending", "attempt": 0},
    ]
    assert snapshot["current_step"] == "hold"
    assert_in_order(updates, snapshot["seq"] + 1)
    final = wait_finished(execution.pk)
    assert updates[-1]["seq"] == final.event_seq  # nothing lost, nothing after the end
    steps = [(m["data"]["node_id"], m["data"]["status"]) for m in updates if m["type"] == "step_update"]
    assert steps == [
        ("hold", "completed"),
        ("after", "pending"),  # queued
        ("after", "running"),  # claimed by a worker
        ("after", "completed"),
        ("end", "completed"),
    ]
    logs = [m["data"]["message"] for m in updates if m["type"] == "log"]
    assert logs[:2] == ["held", "after the gate"]
    assert logs[-1].startswith("Run completed")
    last = updates[-1]
    assert (last["type"], last["status"], last["progress"], last["current_step"]) == (
        "execution_completed",
        "completed",
        100,
        "",
    )
    assert set(last) >= {
        "type",
        "execution_id",
        "workflow_id",
        "status",
        "progress",
        "current_step",
        "data",
        "timestamp",
    }


def wait_for_step(execution, node_id, status):
    wait_for(lambda: StepRun.objects.filter(execution=execution, node_id=node_id, status=status).exists())


def publish(execution, first_seq, *node_ids):
    """What the runner publishes after a commit: one step_update per node id."""
    events = [{"type": "step_update", "data": {"node_id": n, "status": "completed", "attempt": 1}} for n in node_ids]
    broadcast.publish(broadcast.execution_snapshot(execution), events, first_seq=first_seq)
    assert broadcast.flush()


@pytest.fixture
def held_run(user):
    """A run in the middle of step 'a' as of seq 5, not driven by any worker."""
    execution = ExecutionFactory(
        workflow=WorkflowFactory(owner=user), status=Execution.Status.RUNNING, event_seq=5, current_step="a"
    )
    StepRun.objects.create(execution=execution, node_id="start", node_type="trigger.manual", status="completed")
    StepRun.objects.create(execution=execution, node_id="a", node_type="test.slow", status="running", attempt=1)
    return execution


def test_no_gap_and_no_repeat_between_snapshot_and_stream(user, held_run, monkeypatch, settings):
    """Commits land after the socket joined its group and before it read the snapshot: they are not sent twice."""
    settings.FLOWBUILDER_LIVE_REORDER_SECONDS = 0.3
    real_snapshot = selectors.execution_live_snapshot

    def racing_snapshot(execution_id):
        publish(held_run, 4, "start", "a")  # seq 4 (older than the snapshot) and 5
        Execution.objects.filter(pk=held_run.pk).update(event_seq=7)
        publish(held_run, 6, "b", "c")  # committed before the read: the snapshot covers 6 and 7
        return real_snapshot(execution_id)

    monkeypatch.setattr(selectors, "execution_live_snapshot", racing_snapshot)
    token = token_for(user)

    async def scenario():
        async with Socket(f"/ws/executions/{held_run.pk}/?token={token}") as ws:
            snapshot = await ws.receive()
            monkeypatch.setattr(selectors, "execution_live_snapshot", real_snapshot)
            await sync_to_async(publish)(held_run, 9, "e")  # early: 8 has not arrived
            await sync_to_async(publish)(held_run, 8, "d")
            await sync_to_async(publish)(held_run, 8, "d", "e")  # delivered twice
            ordered = [await ws.receive_update() for _ in range(2)]
            # 10 is lost: after the reorder window the socket re-reads the run instead of waiting forever.
            await sync_to_async(Execution.objects.filter(pk=held_run.pk).update)(event_seq=11)
            await sync_to_async(publish)(held_run, 11, "g")
            resync = await ws.receive_update()
            await sync_to_async(publish)(held_run, 12, "h")
            after = await ws.receive_update()
            return snapshot, ordered, resync, after, await ws.nothing()

    snapshot, ordered, resync, after, quiet = async_to_sync(scenario)()
    assert (snapshot["type"], snapshot["seq"]) == ("snapshot", 7)
    assert [(m["seq"], m["data"]["node_id"]) for m in ordered] == [(8, "d"), (9, "e")]
    assert (resync["type"], resync["seq"]) == ("snapshot", 11)  # 11 itself is not sent again
    assert (after["seq"], after["data"]["node_id"]) == (12, "h")
    assert quiet


def test_another_users_run_or_workflow_is_closed_4403(user, make_user, held_run):
    stranger, mine = token_for(make_user()), token_for(user)

    async def close_code(path):
        async with Socket(path) as ws:
            return await ws.close_code()

    paths = [
        f"/ws/executions/{held_run.pk}/?token={stranger}",
        f"/ws/workflows/{held_run.workflow_id}/?token={stranger}",
        f"/ws/executions/{uuid.uuid4()}/?token={mine}",  # missing: the same answer
        f"/ws/workflows/{uuid.uuid4()}/?token={mine}",
        f"/ws/executions/not-an-id/?token={mine}",
    ]
    assert [async_to_sync(close_code)(path) for path in paths] == [4403] * len(paths)


def test_bad_expired_forged_or_missing_credentials_are_closed_4401(user, held_run, settings):
    valid = token_for(user)
    expired = AccessToken(valid)
    expired.set_exp(lifetime=-timedelta(seconds=5))
    payload = jwt.decode(valid, options={"verify_signature": False})
    forged = jwt.encode(payload, "not-the-signing-key-but-long-enough-for-hs256", algorithm="HS256")
    unsigned = jwt.encode(payload, None, algorithm="none")
    path = f"/ws/executions/{held_run.pk}/"

    async def close_code(query="", subprotocols=None):
        async with Socket(path + query, subprotocols=subprotocols) as ws:
            return await ws.close_code()

    queries = ["", "?token=garbage", f"?token={expired}", f"?token={forged}", f"?token={unsigned}", "?api_key=fbk_x_y"]
    assert [async_to_sync(close_code)(q) for q in queries] == [4401] * len(queries)
    assert async_to_sync(close_code)(subprotocols=["bearer", forged]) == 4401

    user.is_active = False
    user.save(update_fields=["is_active"])
    assert async_to_sync(close_code)(f"?token={valid}") == 4401


def test_bearer_subprotocol_is_echoed_and_authenticates(user, held_run):
    token = token_for(user)

    async def scenario():
        async with Socket(f"/ws/executions/{held_run.pk}/", subprotocols=["bearer", token]) as ws:
            return ws.subprotocol, await ws.receive()

    subprotocol, snapshot = async_to_sync(scenario)()
    assert subprotocol == "bearer"
    assert (snapshot["type"], snapshot["seq"]) == ("snapshot", 5)


def test_api_keys_authenticate_and_their_scopes_apply(user, held_run):
    _, raw_reader = api_key_create(
        user=user, granted=user.api_permissions, name="r", scopes=["execution:read", "log:read"]
    )
    _, raw_other = api_key_create(user=user, granted=user.api_permissions, name="w", scopes=["workflow:read"])

    async def first(raw):
        async with Socket(f"/ws/executions/{held_run.pk}/?api_key={raw}") as ws:
            message = await ws.communicator.receive_output(timeout=10)
            return message

    assert async_to_sync(first)(raw_reader)["type"] == "websocket.send"
    assert async_to_sync(first)(raw_other) == {"type": "websocket.close", "code": 4403}


def test_logs_reach_only_sockets_allowed_to_read_them(user, held_run):
    _, no_logs = api_key_create(user=user, granted=user.api_permissions, name="r", scopes=["execution:read"])
    token = token_for(user)

    async def scenario():
        async with (
            Socket(f"/ws/executions/{held_run.pk}/?api_key={no_logs}") as without,
            Socket(f"/ws/executions/{held_run.pk}/?token={token}") as with_logs,
        ):
            await without.receive()
            await with_logs.receive()
            events = [{"type": "log", "data": {"message": "secret-ish"}}, {"type": "execution_update"}]
            await sync_to_async(broadcast.publish)(broadcast.execution_snapshot(held_run), events, first_seq=6)
            return [m["type"] for m in [await with_logs.receive(), await with_logs.receive()]], [
                (await without.receive())["type"]
            ]

    assert async_to_sync(scenario)() == (["log", "execution_update"], ["execution_update"])


def test_cancel_over_the_socket(celery_worker, make_workflow, make_user, user):
    # A long delay waits in the database (no broker countdown, no worker thread held).
    workflow = make_workflow(
        linear(
            node("start", "trigger.manual"), node("wait", "delay", seconds=3600), node("after", "transform", value=1)
        )
    )
    execution = start(workflow)
    wait_for_step(execution, "wait", StepRun.Status.WAITING)
    viewer = make_user()
    workflow_share(workflow=execution.workflow, email=viewer.email, role="viewer")
    viewer_token, owner_token = token_for(viewer), token_for(user)

    async def scenario():
        async with (
            Socket(f"/ws/executions/{execution.pk}/?token={viewer_token}") as watcher,
            Socket(f"/ws/executions/{execution.pk}/?token={owner_token}") as owner,
        ):
            await watcher.receive()
            await watcher.send({"type": "cancel"})
            refused = await watcher.receive_update()
            await owner.receive()
            await owner.send({"type": "cancel"})
            updates = await owner.until_run_ends()
            closed = await owner.close_code()  # the run is over: nothing more will come
            return refused, updates, closed, await watcher.until_run_ends()

    refused, updates, closed, watched = async_to_sync(scenario)()
    assert (refused["type"], refused["code"]) == ("error", "FORBIDDEN")
    assert (updates[-1]["type"], updates[-1]["status"]) == ("execution_failed", "cancelled")
    assert any(m["type"] == "log" and m["data"]["message"] == f"Cancelled by {user.email}" for m in updates)
    assert closed == 1000
    assert watched[-1]["status"] == "cancelled"  # the viewer may watch, not cancel
    assert wait_status(execution.pk, "cancelled").status == "cancelled"


def test_ping_pong_heartbeats_and_bad_messages(user, held_run, settings):
    settings.FLOWBUILDER_LIVE_HEARTBEAT_SECONDS = 0.2
    token = token_for(user)

    async def scenario():
        async with Socket(f"/ws/executions/{held_run.pk}/?token={token}") as ws:
            await ws.receive()  # snapshot
            heartbeat = await ws.receive()
            await ws.send({"type": "ping"})
            pong = await ws.receive_update()
            await ws.communicator.send_to(text_data="not json")
            bad = await ws.receive_update()
            await ws.send({"type": "dance"})
            unknown = await ws.receive_update()
            return heartbeat, pong, bad, unknown

    heartbeat, pong, bad, unknown = async_to_sync(scenario)()
    assert heartbeat["type"] == "ping"
    assert pong["type"] == "pong"
    assert (bad["type"], bad["code"]) == ("error", "VALIDATION_ERROR")
    assert (unknown["type"], unknown["code"]) == ("error", "VALIDATION_ERROR")


def test_workflow_socket_lists_active_runs_then_follows_every_run(celery_worker, make_workflow, user, tmp_path):
    gate = tmp_path / "gate"
    workflow = make_workflow(gated(gate))
    running = start(workflow)
    wait_for_step(running, "hold", StepRun.Status.RUNNING)
    token = token_for(user)

    async def scenario():
        async with Socket(f"/ws/workflows/{workflow.pk}/?token={token}") as ws:
            active = await ws.receive()
            second = await sync_to_async(start)(workflow)
            gate.touch()
            messages = []
            while len({m["execution_id"] for m in messages if m["type"] == "execution_completed"}) < 2:
                messages.append(await ws.receive_update())
            return active, second, messages

    active, second, messages = async_to_sync(scenario)()
    assert active["type"] == "active_executions"
    assert [(r["execution_id"], r["status"]) for r in active["executions"]] == [(str(running.pk), "running")]
    first_seq = active["executions"][0]["seq"] + 1
    assert_in_order([m for m in messages if m["execution_id"] == str(running.pk)], first_seq)
    assert_in_order([m for m in messages if m["execution_id"] == str(second.pk)], 1)


def test_notifications_carry_the_users_runs_only(celery_worker, make_workflow, make_user, user):
    other = make_user()
    quick = linear(node("start", "trigger.manual"), node("t", "test.slow", seconds=0))
    mine_token, theirs_token = token_for(user), token_for(other)

    async def scenario():
        async with (
            Socket(f"/ws/notifications/?token={mine_token}") as mine,
            Socket(f"/ws/notifications/?token={theirs_token}") as theirs,
        ):
            subscribed = await mine.receive()
            await theirs.receive()
            workflow = await sync_to_async(make_workflow)(quick)
            execution = await sync_to_async(start)(workflow)
            return subscribed, execution, await mine.until_run_ends(), await theirs.nothing()

    subscribed, execution, messages, theirs_quiet = async_to_sync(scenario)()
    assert subscribed == {"type": "subscribed", "user_id": str(user.pk), "timestamp": subscribed["timestamp"]}
    assert {m["execution_id"] for m in messages} == {str(execution.pk)}
    assert_in_order(messages, 1)
    assert theirs_quiet


def test_a_socket_idle_longer_than_the_layers_blocking_read_keeps_working(user, held_run):
    """channels-redis blocks 5 s per read; redis-py 8's default 5 s socket timeout made idle sockets fail there."""
    token = token_for(user)

    async def scenario():
        async with Socket(f"/ws/executions/{held_run.pk}/?token={token}") as ws:
            await ws.receive()
            quiet = await ws.nothing(timeout=6.5)  # past one blocking read
            await sync_to_async(publish)(held_run, 6, "b")
            return quiet, await ws.receive_update()

    quiet, update = async_to_sync(scenario)()
    assert quiet
    assert (update["seq"], update["data"]["node_id"]) == (6, "b")
