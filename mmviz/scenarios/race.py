"""Races: scenarios where two tasks run at once, switched at chosen events, and recorded.

A `Race` is like a Scenario with several programs. The first program runs as the world's main
task ("task A"); the others as new threads of its process or as separate processes. Which
task runs when is decided by a schedule (see mmviz.model.sched): a list of pids, one per
switch point, or a `switch_after(...)` rule. The schedule actually taken is stored in the
Trace, so `run_race(race, kernel, schedule=trace.schedule)` reproduces it byte for byte.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ..model.errno import is_err
from ..model.errors import ModelBug, TaskHung, check_choices
from ..model.world import KERNELS, World
from ..trace.recorder import Recorder


@dataclass(frozen=True)
class TaskPlan:
    """One task of a race: its name, its program `(world, ctx) -> return value`, and whether it
    is a separate process (else a thread sharing task A's address space and files)."""

    comm: str
    program: Callable
    process: bool = False


@dataclass(frozen=True)
class Race:
    name: str
    title: str
    description: str
    setup: Callable                  # (world) -> ctx, run unrecorded as task A
    plans: tuple                     # TaskPlan, task A first
    schedule: object = ()            # pids, or a callable; see switch_after()
    world_settings: tuple = ()
    check: Callable | None = None    # (world, ctx, results) -> (level, what, fields) notes


@dataclass(frozen=True)
class SwitchAfter:
    """A schedule rule: when task A (pid 1) has emitted events named `whats`, in that order,
    run task `to`; with `back`, return to A when `to` emits an event named `back`. Each run
    gets its own matcher (`make()`); the pids it chose are what the trace stores."""

    whats: tuple
    to: int
    back: str | None = None

    def make(self):
        state = {"next": 0}

        def schedule(point, pid, kind, what):
            if pid == 1 and state["next"] < len(self.whats) and what == self.whats[state["next"]]:
                state["next"] += 1
                if state["next"] == len(self.whats):
                    return self.to
            if self.back is not None and pid == self.to and what == self.back:
                return 1
            return None
        return schedule


def switch_after(*whats, to: int = 2, back: str | None = None) -> SwitchAfter:
    """Run task `to` once task A has emitted events named `whats`, in that order."""
    return SwitchAfter(tuple(whats), to, back)


def _schedule_for(schedule):
    return schedule.make() if isinstance(schedule, SwitchAfter) else schedule


def _tasks_for(world, race):
    tasks = [world.current]
    for plan in race.plans[1:]:
        tasks.append(world.new_process(plan.comm) if plan.process else world.new_thread(plan.comm))
    world.current.comm = race.plans[0].comm
    return tasks


def prepare(race: Race, kernel: str):
    """A fresh world with the race's setup done and its tasks made: (world, ctx, programs)."""
    check_choices("kernel", (kernel,), KERNELS)
    world = World(kernel, **dict(race.world_settings))
    ctx = race.setup(world)
    tasks = _tasks_for(world, race)
    programs = {t: (lambda w, p=plan: p.program(w, ctx)) for t, plan in zip(tasks, race.plans)}
    return world, ctx, programs


def _outcome(world, results) -> str:
    if world.halted or any(t.hung for t in world.tasks):
        return "deadlock"
    ret = results.get(1)
    return "error" if isinstance(ret, int) and is_err(ret) else "ok"


def _plain_results(results) -> tuple:
    """((pid, return value or None), ...): a hung task returned nothing; any other exception
    inside a task is a model bug and is raised here."""
    out = []
    for pid, r in sorted(results.items()):
        if isinstance(r, TaskHung):
            r = None
        elif isinstance(r, BaseException):
            raise r
        out.append((pid, r if isinstance(r, int) and not isinstance(r, bool) else None))
    return tuple(out)


def run_race(race: Race, kernel: str = "v4", schedule=None, validate: bool = False):
    """Record the race under `kernel`, switching tasks as `schedule` (default: the race's own)
    says; returns the Trace (its `schedule` replays it)."""
    world, ctx, programs = prepare(race, kernel)
    rec = Recorder(world, validate=validate)
    world.emit("note", "before")
    results, taken = world.run_tasks(programs, _schedule_for(race.schedule if schedule is None
                                                              else schedule))
    plain = _plain_results(results)
    if not world.halted:
        if validate and not any(t.hung for t in world.tasks):
            world.validate()
        if race.check is not None:
            for level, what, fields in race.check(world, ctx, dict(plain)):
                world.emit(level, what, **fields)
        world.emit("note", "after_tasks", results=[[p, r] for p, r in plain])
    return rec.finish(race.name, race.title, race.description, dict(plain).get(1),
                      outcome=_outcome(world, results), schedule=taken, task_results=plain)


def quick_run(race: Race, kernel: str, schedule):
    """Run without recording (for the explorer): (outcome, results, violation kinds, invariant
    problem or None, schedule taken, A's switch points as (function, what) pairs)."""
    world, ctx, programs = prepare(race, kernel)
    a_points = []
    inner = _schedule_for(schedule)

    def counting(point, pid, kind, what):
        if pid == 1:
            stack = world.current.stack
            a_points.append((stack[-1] if stack else "user", what))
        if callable(inner):
            return inner(point, pid, kind, what)
        return inner[point] if point < len(inner) else None
    results, taken = world.run_tasks(programs, counting)
    plain = _plain_results(results)
    problem = None
    if not world.halted and not any(t.hung for t in world.tasks):
        try:
            world.validate()
        except ModelBug as e:
            problem = str(e).splitlines()[0]
    kinds = tuple(v["kind"] for v in world.violations)
    return _outcome(world, results), plain, kinds, problem, taken, tuple(a_points)
