"""A submission as the hidden tests see it: a handle that runs scenario calls in the sandbox.

Starting a worker and importing the submission in it costs more than most calls, so a
grading runs the calls the hidden tests make in one worker, in a fixed order (the Plan,
learnt once from the hidden tests by a PlanRecorder), and keeps each call's outcome for
the test that asks for it. The result is the same as one worker per call.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograder import messages
from autograder.sandbox import Outcome, Sandbox
from autograder.sandbox.client import IMPORT_ONLY

Call = tuple[str, str]  # a scenario's name and its arguments as canonical JSON

# Outcomes of limits that a worker's calls share (wall clock, CPU, memory, output): a call
# that meets one after other calls in the same worker might not meet it alone.
_SHARED_LIMITS = {"timeout", "cpu", "memory", "output"}


@dataclass(frozen=True)
class Plan:
    """The scenario calls the hidden tests make, in the order every grading runs them in
    one worker (Submission.prefetch). It is fixed data, learnt once from the hidden tests
    (by grading the reference: judge.settle_plan) and shipped with the autograder, so that
    `make grade`, `grade-all` at any JOBS and Gradescope's one fresh run all run the same
    calls in the same grouping and order, and a submission's score never depends on what
    else a process graded. Empty: every call runs alone, in a worker of its own."""

    calls: tuple[Call, ...] = ()
    visible: int = 0  # calls[:visible] are visible tests' calls

    def to_json(self) -> dict:
        return {"visible": self.visible, "calls": [list(call) for call in self.calls]}

    @classmethod
    def from_json(cls, data: dict) -> Plan:
        calls = tuple((str(name), str(args)) for name, args in data["calls"])
        return cls(calls, int(data["visible"]))


class PlanRecorder:
    """Learns a Plan from one grading in which every call runs alone: first seen, first
    run, except that every call of a visible test runs before any call of a hidden one.
    Visible tests show the student their own error messages and values, and the submission
    keeps its memory from call to call: what hidden calls gave it (their inputs) must
    never be able to come out in a later visible call."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.visible = 0

    def learn(self, call: Call, visible: bool) -> None:
        if call in self.calls:
            if not visible or self.calls.index(call) < self.visible:
                return
            self.calls.remove(call)  # a hidden test's call that a visible test makes too
        if visible:
            self.calls.insert(self.visible, call)
            self.visible += 1
        else:
            self.calls.append(call)

    def plan(self) -> Plan:
        return Plan(tuple(self.calls), self.visible)


@dataclass
class Submission:
    """One student's code, seen only through the sandbox: tests call `run`, and `explain`
    what went wrong. Used by one grading, from one thread (a Sandbox runs one call at a
    time)."""

    path: Path
    module: str
    sandbox: Sandbox
    source_lines: list[str]
    public: bool = True  # False inside hidden tests: the student's own error text is withheld
    log: list[str] = field(default_factory=list)  # what the worker printed, for the TA
    plan: Plan = field(default_factory=Plan)  # the calls to run in one worker
    recorder: PlanRecorder | None = None  # only while a plan is learnt (settle_plan)
    _done: dict[Call, Outcome] = field(default_factory=dict)
    _pending: list[Call] = field(default_factory=list)  # planned, no outcome yet
    _alone: set[Call] = field(default_factory=set)  # to run only first in a worker
    _logged: set[Call] = field(default_factory=set)
    _shared: dict[Call, int] = field(default_factory=dict)  # first of a group: its size

    def run(self, scenario: str, **args: Any) -> Outcome:
        """The outcome of one call. A call asked again (two tests may make the same one)
        gets the same outcome: one answer per call in a grading, and no second worker."""
        call = (scenario, json.dumps(args, sort_keys=True))
        if call in self._pending:  # (a call with an outcome is no longer pending)
            self._run_group(call)
        if call not in self._done:
            self._done[call] = self.sandbox.run(self.path, self.module, scenario, **args)
            # (the import check is not planned: a plan's first group tells that too)
            if self.recorder is not None and scenario != IMPORT_ONLY:
                self.recorder.learn(call, visible=self.public)
        outcome = self._done[call]
        if outcome.output and call not in self._logged:
            self._logged.add(call)
            more = self._shared.get(call, 1) - 1  # a group's print-out is one, for all
            label = f"{scenario} and the {more} calls after it" if more else scenario
            self.log.append(f"[{label}] {outcome.output}")
        return outcome

    def import_problem(self) -> Outcome | None:
        """Why the submission does not import, or None. With a plan, the planned calls
        run now (prefetch) and tell; without one, a worker that only imports it does."""
        if self.plan.calls:
            return self.prefetch()
        outcome = self.run(IMPORT_ONLY)
        return None if outcome.ok else outcome

    def prefetch(self) -> Outcome | None:
        """Run every planned call in one worker (the submission imported once, the guard
        restoring the scenarios' world after each call) instead of one worker per call.
        Returns why the submission does not import, or None: the group answers that too."""
        self._pending = list(self.plan.calls)
        return self._run_group(self._pending[0]) if self._pending else None

    def _run_group(self, first: Call) -> Outcome | None:
        """Run `first` and, after it, the pending calls planned after it, in one worker.
        The result is the same as one worker per call: a call first in its worker is a
        lone call, and the calls a worker did not finish stay pending, to run (first) when
        a test asks for them. So does a call that met a shared limit after other calls
        (see _SHARED_LIMITS): it runs again alone when asked, and never again in a group,
        so a call that hangs costs at most two time limits. Calls run in the plan's
        order: no visible call after a hidden one (see Plan)."""
        later = self.plan.calls[self.plan.calls.index(first) + 1:]
        group = [first, *(c for c in later if c in self._pending and c not in self._alone)]
        problem, outcomes = self.sandbox.run_many(
            self.path, self.module, [(name, json.loads(args)) for name, args in group])
        if problem is not None:
            return problem
        for position, (call, outcome) in enumerate(zip(group, outcomes, strict=True)):
            if outcome is None:
                continue
            if position and outcome.status in _SHARED_LIMITS:
                self._alone.add(call)
                continue
            self._done[call] = outcome
            self._pending.remove(call)
        self._shared[first] = len(group)
        return None

    def explain(self, outcome: Outcome, what: str) -> str:
        """What went wrong, for the student (autograder.messages): in a hidden test, not
        the student's own exception message, which could carry the hidden inputs."""
        return messages.explain(outcome, what, module=self.module, public=self.public,
                                source_lines=self.source_lines)
