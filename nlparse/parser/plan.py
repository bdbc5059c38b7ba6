"""Arranging clause items into a program: the trigger, a sequence of steps, branches and loops.

A condition's "then" branch runs to the end of its sentence; an "otherwise"
(in the same sentence or at the start of a later one) opens its other
branch. A loop's body runs to the end of its sentence or to a "then" ("for
each item call X, then email ops": the e-mail comes once, after the loop).
What follows goes on after them.
"""

from __future__ import annotations

from nlparse.parser.ir import (
    ActionItem,
    Condition,
    ElseItem,
    IfItem,
    Loop,
    LoopItem,
    Note,
    Plan,
    Step,
    TriggerItem,
    UnknownItem,
)
from nlparse.parser.segment import Clause


def assemble(clauses: list[Clause]) -> Plan:
    plan = Plan()
    target: list[Step] = plan.steps
    sentence = None
    # The condition an "otherwise" may still attach to, and the list it sits in.
    open_condition: tuple[Condition, list[Step]] | None = None
    # The loop whose body is being filled, and the list it sits in.
    open_loop: tuple[Loop, list[Step]] | None = None

    for clause in clauses:
        if clause.sentence != sentence:
            sentence = clause.sentence
            target = plan.steps
            open_loop = None
        elif clause.after_then and open_loop is not None and target is open_loop[0].body:
            target = open_loop[1]
            open_loop = None
        for item in clause.reading.items:
            if isinstance(item, TriggerItem):
                if plan.trigger is None:
                    plan.trigger = item
                else:
                    plan.notes.append(Note("A workflow has one trigger; this second one was left out", item.span))
            elif isinstance(item, ActionItem):
                target.append(item)
            elif isinstance(item, IfItem):
                condition = Condition(head=item)
                target.append(condition)
                open_condition = (condition, target)
                if item.action is not None:
                    condition.then.append(item.action)
                if not item.postfix:
                    target = condition.then
            elif isinstance(item, ElseItem):
                if (
                    open_condition is not None
                    and not open_condition[0].has_else
                    and open_condition[1][-1] is (open_condition[0])
                ):
                    condition = open_condition[0]
                    condition.has_else = True
                    target = condition.otherwise
                else:
                    plan.notes.append(
                        Note("'Otherwise' has no 'if' before it; what follows runs unconditionally", item.span)
                    )
                if item.action is not None:
                    target.append(item.action)
            elif isinstance(item, LoopItem):
                loop = Loop(head=item)
                target.append(loop)
                open_loop = (loop, target)
                if item.action is not None:
                    loop.body.append(item.action)
                target = loop.body
            elif isinstance(item, UnknownItem):
                plan.unknown.append(item)
    return plan


def count_actions(steps: list[Step]) -> int:
    total = 0
    for step in steps:
        if isinstance(step, ActionItem):
            total += 1
        elif isinstance(step, Condition):
            total += 1 + count_actions(step.then) + count_actions(step.otherwise)
        elif isinstance(step, Loop):
            total += 1 + count_actions(step.body)
    return total
