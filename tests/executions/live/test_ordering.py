"""Per-run seq ordering (pure) and the broadcast's coalescing of a backlog."""

from __future__ import annotations

from executions.broadcast import merge_batches
from executions.live.ordering import RunOrdering


def msg(seq, run="r1"):
    return {"execution_id": run, "seq": seq}


def seqs(messages):
    return [m["seq"] for m in messages]


def test_in_order_messages_pass_and_repeats_are_dropped():
    order = RunOrdering()
    assert seqs(order.push(msg(1), now=0)) == [1]
    assert seqs(order.push(msg(2), now=0)) == [2]
    assert order.push(msg(2), now=0) == []
    assert order.push(msg(1), now=0) == []
    assert not order.waiting()


def test_early_messages_wait_for_the_gap_then_come_out_in_order():
    order = RunOrdering()
    assert order.push(msg(3), now=0) == []
    assert order.push(msg(2), now=0.1) == []
    assert order.push(msg(3), now=0.1) == []  # a repeat of a held one
    assert order.waiting()
    assert seqs(order.push(msg(1), now=0.2)) == [1, 2, 3]
    assert not order.waiting()


def test_runs_are_ordered_independently_and_a_snapshot_sets_the_start():
    order = RunOrdering()
    order.expect("r2", 8)
    assert order.push(msg(7, "r2"), now=0) == []  # the snapshot covered it
    assert seqs(order.push(msg(1, "r1"), now=0)) == [1]
    assert seqs(order.push(msg(8, "r2"), now=0)) == [8]
    assert order.next_seq("r1") == 2
    assert order.next_seq("unknown") == 1


def test_a_gap_that_does_not_fill_is_overdue_then_skipped_or_restarted():
    order = RunOrdering()
    order.push(msg(1), now=0)
    order.push(msg(3), now=1.0)
    order.push(msg(5), now=1.5)
    assert order.overdue(now=1.9, window=1.0) == []
    assert order.overdue(now=2.0, window=1.0) == ["r1"]
    assert seqs(order.skip_gap("r1", now=2.0)) == [3]  # 2 is given up; 5 still waits for 4
    assert order.overdue(now=2.5, window=1.0) == []
    assert seqs(order.restart("r1", 5, now=3.0)) == [5]  # re-read up to 4: 5 follows
    assert seqs(order.push(msg(6), now=3.0)) == [6]
    assert order.restart("r1", 10, now=3.0) == []
    assert order.push(msg(9), now=3.0) == []


def test_messages_without_a_seq_pass_through_and_old_runs_are_forgotten():
    order = RunOrdering(max_runs=2)
    assert order.push({"type": "other"}, now=0) == [{"type": "other"}]
    order.push(msg(1, "a"), now=0)
    order.push(msg(1, "b"), now=0)
    order.push(msg(1, "c"), now=0)
    assert order.next_seq("a") == 1  # forgotten: expected from the start again
    assert order.next_seq("c") == 2


def test_a_backlog_is_merged_per_run_in_order_and_bounded():
    run_1, run_2 = ["execution.1", "workflow.w", "user.u"], ["execution.2", "workflow.w", "user.u"]
    batches = [
        (run_1, [msg(1, "1"), msg(2, "1")]),
        (run_1, [msg(3, "1")]),
        (run_2, [msg(1, "2")]),
        (run_1, [msg(4, "1"), msg(5, "1"), msg(6, "1")]),
    ]
    merged = merge_batches(batches, limit=2)
    assert [(groups[0], seqs(messages)) for groups, messages in merged] == [
        ("execution.1", [1, 2]),
        ("execution.1", [3]),
        ("execution.2", [1]),
        ("execution.1", [4, 5]),
        ("execution.1", [6]),
    ]
    assert merge_batches(batches[:2], limit=10) == [(run_1, [msg(1, "1"), msg(2, "1"), msg(3, "1")])]
