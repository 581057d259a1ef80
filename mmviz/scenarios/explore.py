"""The race explorer: run a race under every schedule that switches once, and judge each.

For a race of two tasks A and B, schedule k lets A run to its k-th switch point, then B until
it finishes or must wait, then whoever can run. Every k from 0 to the number of A's switch
points is tried (each in a fresh world, not recorded), and each run is judged against the
serial run (A to the end, then B): a deadlock, a lock-rule violation, a broken invariant
(`validate_mm`), a different result — or nothing wrong. The shortest failing schedule (the
fewest events of A before the switch) is the one to step through: `run_race(race, kernel,
schedule=row.schedule)` records it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from .race import Race, quick_run

VERDICTS = ("ok", "different result", "violation", "broken invariant", "deadlock")


@dataclass(frozen=True)
class ScheduleRun:
    switch_at: int | None        # A's switch point after which B runs; None: the serial run
    schedule: tuple              # the pid chosen at every switch point (replays the run)
    outcome: str                 # ok, error, deadlock
    results: tuple               # (pid, return value or None)
    violations: tuple            # the kinds the lock checker reported
    problem: str | None          # the invariant validate_mm found broken
    verdict: str                 # one of VERDICTS


@dataclass(frozen=True)
class Exploration:
    race: str
    kernel: str
    serial: ScheduleRun
    runs: tuple                  # ScheduleRun for switch_at = 0, 1, ...
    seconds: float
    a_points: tuple = ()         # (function, what) of each of A's events in the serial run

    def point(self, k) -> str:
        """What task A had just done at its switch point k, e.g. 'vma_link_file: unlock'."""
        if k is None:
            return "—"
        if k == 0:
            return "before A starts"
        fn, what = self.a_points[k - 1] if k - 1 < len(self.a_points) else ("?", "?")
        return f"{fn}: {what}"

    @property
    def failing(self) -> tuple:
        return tuple(r for r in self.runs if r.verdict != "ok")

    @property
    def shortest_failing(self):
        """The failing schedule with the fewest events of A before the switch, or None."""
        return self.failing[0] if self.failing else None

    def counts(self) -> dict:
        out = {v: 0 for v in VERDICTS}
        for r in self.runs:
            out[r.verdict] += 1
        return out


def _judge(outcome, results, kinds, problem, serial_results) -> str:
    if outcome == "deadlock":
        return "deadlock"
    if problem is not None:
        return "broken invariant"
    if kinds:
        return "violation"
    if serial_results is not None and results != serial_results:
        return "different result"
    return "ok"


def _run(race, kernel, schedule, switch_at, serial_results):
    outcome, results, kinds, problem, taken, _ = quick_run(race, kernel, schedule)
    return ScheduleRun(switch_at, taken, outcome, results, kinds, problem,
                       _judge(outcome, results, kinds, problem, serial_results))


def explore(race: Race, kernel: str = "v4", limit: int | None = None) -> Exploration:
    """Every single-switch schedule of `race` (up to `limit` of them), judged."""
    t0 = time.perf_counter()
    outcome, results, kinds, problem, taken, a_points = quick_run(race, kernel, ())
    serial = ScheduleRun(None, taken, outcome, results, kinds, problem,
                         _judge(outcome, results, kinds, problem, None))
    b = race_pids(race)[1]
    n = len(a_points) if limit is None else min(len(a_points), limit)
    runs = tuple(_run(race, kernel, (1,) * k + (b,), k, results) for k in range(n + 1))
    return Exploration(race.name, kernel, serial, runs, time.perf_counter() - t0, a_points)


def race_pids(race: Race) -> tuple:
    """The pids the race's tasks get: 1 for A, then 2, 3, ... in plan order."""
    return tuple(range(1, len(race.plans) + 1))


def groups(ex: Exploration) -> list:
    """Consecutive schedules with the same verdict, violations and results, as
    (first switch point, last switch point, run)."""
    out = []
    for r in ex.runs:
        key = (r.verdict, r.violations, r.results, r.problem)
        if out and out[-1][3] == key and out[-1][1] == r.switch_at - 1:
            out[-1] = (out[-1][0], r.switch_at, out[-1][2], key)
        else:
            out.append((r.switch_at, r.switch_at, r, key))
    return [(a, b, r) for a, b, r, _ in out]


def table(ex: Exploration, width: int = 110) -> str:
    """The exploration as text: a row per run of schedules alike, then a summary."""
    lines = [f"{ex.race} under {ex.kernel}: {len(ex.runs)} single-switch schedules in "
             f"{ex.seconds:.2f} s ({len(ex.runs) / max(ex.seconds, 1e-9):.0f} per second)",
             f"serial run (A to the end, then B): {_results(ex.serial.results)}"
             + (f"; {ex.serial.verdict}: {', '.join(dict.fromkeys(ex.serial.violations))}"
                if ex.serial.verdict != "ok" else ""), "",
             f" {'B runs after A did':<44} {'verdict':<17} {'results':<18} what went wrong"]
    for a, b, r in groups(ex):
        where = ex.point(a) if a == b else f"{ex.point(a)} … {ex.point(b)}"
        span = f"{a}" if a == b else f"{a}-{b}"
        what = ", ".join(dict.fromkeys(r.violations)) or (r.problem or "")
        lines.append(f" {span:>7} {where[:36]:<36} {r.verdict:<17} {_results(r.results):<18} "
                     f"{what}"[:width])
    c = ex.counts()
    lines.append("")
    lines.append("summary: " + ", ".join(f"{v} {n}" for v, n in c.items() if n))
    s = ex.shortest_failing
    lines.append("shortest failing schedule: " + (
        f"B runs after A's event {s.switch_at} ({ex.point(s.switch_at)}); its schedule of "
        f"{len(s.schedule)} switch points replays it (mmviz explore {ex.race} --show)"
        if s is not None else
        "none: every schedule behaves like the serial run"))
    return "\n".join(lines) + "\n"


def _results(results) -> str:
    from ..model.errno import Errno, is_err
    out = []
    for pid, r in results:
        if r is None:
            out.append(f"{pid}:—")
        elif is_err(r):
            out.append(f"{pid}:{Errno.name_of(r)}")
        else:
            out.append(f"{pid}:{r:#x}" if r > 4096 else f"{pid}:{r}")
    return " ".join(out)
