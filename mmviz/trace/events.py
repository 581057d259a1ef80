"""Trace events and the immutable Trace they form.

An event is what the model emitted — kind, function, `what`, fields — plus the snapshot of
the world at that moment. Its sentence is not stored: mmviz.render.narration makes it from
the event and the trace's kernel variant.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

from .snapshot import Snapshot

EVENT_KINDS = ("call", "return", "lock", "unlock", "wait", "hook", "vma", "error", "warn",
               "note", "violation")
VIOLATION_KINDS = ("recursive-lock", "deadlock", "unlock-not-held", "held-on-return", "assert",
                   "lock-order", "half-built")
OUTCOMES = ("ok", "error", "deadlock", "build-error", "unsupported")


@dataclass(frozen=True)
class Event:
    seq: int
    kind: str
    fn: str
    what: str
    depth: int
    data: MappingProxyType
    snapshot: Snapshot
    task: int = 1              # pid of the task the event happened in

    @property
    def locks_held(self) -> tuple:
        return self.snapshot.locks_held

    @property
    def step(self):
        """The spec §2.3 step label (S0..S11, E1, E2) this event announces, if any."""
        return self.data.get("step") if self.what == "step" else None


@dataclass(frozen=True)
class Violation:
    kind: str
    lock: str
    seq: int


@dataclass(frozen=True)
class Result:
    ret: int | None          # what the call returned (None if it never returned)
    errno: str | None        # "ENOMEM" etc. when ret is a negative errno
    outcome: str             # one of OUTCOMES

    def summary(self) -> str:
        """What the call returned, in a few words: '-ENOMEM', '0x10000000', 'never returns (deadlock)'."""
        if self.outcome == "deadlock":
            return "never returns (deadlock)"
        if self.outcome == "build-error":
            return "does not build"
        if self.outcome == "unsupported":
            return "not possible in this kernel"
        if self.errno:
            return f"-{self.errno}"
        return f"{self.ret:#x}" if isinstance(self.ret, int) else "nothing"


@dataclass(frozen=True)
class Trace:
    """A recorded run: read by pictures, widgets, exports and tests; never changed."""

    scenario: str
    title: str
    description: str
    kernel: str
    config: MappingProxyType
    result: Result
    events: tuple
    violations: tuple
    initial: Snapshot
    final: Snapshot
    files: tuple = ()            # file labels that appear in the trace
    tasks: tuple = ()            # (pid, comm, tgid) of every task, when there is more than one
    schedule: tuple = ()         # the pid chosen at each switch point (replays the run)
    task_results: tuple = ()     # (pid, return value or None) of every task's program

    def __len__(self):
        return len(self.events)

    def __getitem__(self, i) -> Event:
        return self.events[i]

    def snapshot_at(self, i) -> Snapshot:
        return self.events[i].snapshot if self.events else self.initial

    def task_label(self, pid) -> str:
        """'comm[pid]' ('A[1]'), as every view names a task of a race."""
        return next((f"{comm}[{p}]" for p, comm, _ in self.tasks if p == pid), f"{pid}[{pid}]")

    def to_json(self) -> str:
        from .jsonio import trace_to_json
        return trace_to_json(self)

    @staticmethod
    def from_json(text: str) -> "Trace":
        from .jsonio import trace_from_json
        return trace_from_json(text)
