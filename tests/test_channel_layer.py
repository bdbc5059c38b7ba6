"""The embedded mode's channel layer delivers publishes from worker threads at once.

Channels' stock InMemoryChannelLayer left such a message waiting until
something else woke the server loop (SPEC §1 measured 4.5 s); with an idle
loop it never arrives. Ours hands it to the server loop thread-safely.
"""

from __future__ import annotations

import asyncio
import threading
import time

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer

from flowbuilder.channel_layers import ThreadSafeInMemoryChannelLayer


def publish_from_thread_and_receive(layer: InMemoryChannelLayer, idle: float) -> tuple[dict, float]:
    """Publish from a worker thread while the consumer's loop sleeps on a timer ``idle`` seconds away.

    Returns the message and how long it took to arrive.
    """

    async def scenario() -> tuple[dict, float]:
        if hasattr(layer, "bind_loop"):
            layer.bind_loop(asyncio.get_running_loop())
        channel = await layer.new_channel()
        await layer.group_add("execution-1", channel)
        receiving = asyncio.ensure_future(layer.receive(channel))
        await asyncio.sleep(0.05)  # the consumer is now parked on an idle loop

        def worker() -> None:  # a Celery worker thread with its own event loop
            async_to_sync(layer.group_send)("execution-1", {"type": "step.update", "n": 1})

        started = time.monotonic()
        threading.Thread(target=worker).start()
        await asyncio.wait({receiving}, timeout=idle)  # the only thing that would wake the loop
        await receiving
        return receiving.result(), time.monotonic() - started

    return asyncio.run(scenario())


IDLE = 3.0


def test_thread_publish_wakes_the_idle_consumer():
    message, waited = publish_from_thread_and_receive(ThreadSafeInMemoryChannelLayer(), IDLE)
    assert message == {"type": "step.update", "n": 1}
    assert waited < IDLE / 2  # delivered by the publish itself, not by the loop's next timer


def test_same_loop_publish_still_works():
    async def scenario() -> dict:
        layer = ThreadSafeInMemoryChannelLayer()
        channel = await layer.new_channel()
        await layer.group_add("g", channel)
        await layer.group_send("g", {"type": "x"})
        return await asyncio.wait_for(layer.receive(channel), 1)

    assert asyncio.run(scenario()) == {"type": "x"}


def test_pipelined_redis_group_send_speaks_the_stock_layers_format(settings):
    """Sent by ours, received by channels-redis's own layer: local and general channels, capacity, group expiry."""
    from channels_redis.core import RedisChannelLayer

    from flowbuilder.channel_layers import PipelinedRedisChannelLayer

    async def scenario() -> tuple[list[int], dict[str, list[int]], list[int]]:
        config = {"hosts": [settings.REDIS_URL], "prefix": "fb-test-pipelined", "capacity": 2, "group_expiry": 60}
        ours, stock = PipelinedRedisChannelLayer(**config), RedisChannelLayer(**config)
        await stock.flush()
        local_a, local_b, general = await stock.new_channel(), await stock.new_channel(), "fb.general"
        for channel in (local_a, local_b, general):
            await ours.group_add("g", channel)
        redis = stock.connection(0)
        keys = [f"fb-test-pipelined{stock.non_local_name(local_a)}", f"fb-test-pipelined{general}"]

        async def receive(channel: str, count: int) -> list[int]:
            return [(await asyncio.wait_for(stock.receive(channel), 5))["n"] for _ in range(count)]

        for n in (1, 2, 3):  # each Redis key holds 2 (capacity): 3 is dropped, as the stock layer does
            await ours.group_send("g", {"type": "x", "n": n})
        queued = [await redis.zcard(key) for key in keys]
        seen = {"local_a": await receive(local_a, 2), "local_b": await receive(local_b, 2)}
        seen["general"] = await receive(general, 2)
        # A member older than group_expiry is dropped before sending.
        await redis.zadd(stock._group_key("g"), {general: time.time() - 120})
        await ours.group_send("g", {"type": "x", "n": 4})
        after = await receive(local_a, 1) + await receive(local_b, 1) + [await redis.zcard(keys[1])]
        await stock.flush()
        await ours.close_pools()
        await stock.close_pools()
        return queued, seen, after

    queued, seen, after = asyncio.run(scenario())
    assert queued == [2, 2]
    assert seen == {"local_a": [1, 2], "local_b": [1, 2], "general": [1, 2]}
    assert after == [4, 4, 0]


def test_group_send_many_reaches_each_channel_of_several_groups_once(settings):
    from flowbuilder.channel_layers import PipelinedRedisChannelLayer

    async def scenario() -> list[list[int]]:
        layer = PipelinedRedisChannelLayer(hosts=[settings.REDIS_URL], prefix="fb-test-many")
        await layer.flush()
        both, only_b = await layer.new_channel(), await layer.new_channel()
        await layer.group_add("a", both)
        await layer.group_add("b", both)
        await layer.group_add("b", only_b)
        await layer.group_send_many(["a", "b", "empty"], {"type": "x", "n": 1})
        await layer.group_send_many(["a"], {"type": "x", "n": 2})
        got = [
            [(await asyncio.wait_for(layer.receive(both), 5))["n"] for _ in range(2)],
            [(await asyncio.wait_for(layer.receive(only_b), 5))["n"]],
        ]
        await layer.flush()
        await layer.close_pools()
        return got

    assert asyncio.run(scenario()) == [[1, 2], [1]]
