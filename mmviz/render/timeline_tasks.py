"""The lock timeline of a race: a group of lanes per task, and who waits for whom.

A trace of several tasks (`trace.tasks`) gets, per task, a "runs" lane (the stretches in
which it has the CPU) and a lane per lock it holds or waits for. A hold is drawn as in a
one-task timeline; a wait is a dotted outline in the lock's colour with a dotted fill, and
an arrow goes from where the wait begins up or down to the task holding the lock then —
the picture answers "who waits for whom, and since when". A wait that never ends (a
deadlock) says so.

Used by `timeline.py`; the lanes are keyed (pid, lock), (pid, None) being the runs lane.
"""

from __future__ import annotations

from ..trace.query import lock_family, lock_order_key, task_intervals
from .palette import LOCK_COLOURS, RUN_COLOUR, WAIT_STYLE


def task_plan(trace, tivs=None):
    """(holds, runs, waits, lane keys top to bottom, their labels) of a race's trace."""
    tivs = task_intervals(trace) if tivs is None else tivs
    holds = [iv for iv in tivs if iv.what == "hold"]
    runs = [iv for iv in tivs if iv.what == "run"]
    waits = [iv for iv in tivs if iv.what == "wait"]
    keys, labels = [], []
    # a violation goes on the lane of the task it happened in, or else of a task using that
    # lock (a walker reaching a VMA another task is still setting up: that task's lane)
    used = {iv.lock for iv in holds + waits}
    violated = {(trace.events[v.seq].task, v.lock) for v in trace.violations
                if v.lock and v.seq < len(trace.events) and v.lock not in used}
    for pid, _comm, _tgid in trace.tasks:
        keys.append((pid, None))
        labels.append(f"{trace.task_label(pid)} runs")
        mine = ({iv.lock for iv in holds + waits if iv.pid == pid}
                | {lock for p, lock in violated if p == pid})
        for lock in sorted(mine, key=lock_order_key):
            keys.append((pid, lock))
            labels.append(f"{trace.task_label(pid)}: {lock}")
    return holds, runs, waits, keys, labels


def draw_runs(plot, runs):
    """A thin dark bar while a task has the CPU."""
    from matplotlib.collections import PolyCollection
    polys = []
    h = 0.12 * plot.hh / 0.28          # thinner when two traces share the lane (Compare)
    for iv in runs:
        y = plot.lane_of[(iv.pid, None)] + plot.dy
        x0 = plot.x(iv.start) - 0.5
        x1 = plot.x(iv.end) - 0.5 if iv.end is not None else plot.n - 0.5
        polys.append([(x0, y - h), (x0, y + h), (x1, y + h), (x1, y - h)])
    if polys:
        pc = PolyCollection(polys, facecolors=RUN_COLOUR, edgecolors=RUN_COLOUR, zorder=2)
        pc.set_gid("mmviz-task-runs")
        plot.ax.add_collection(pc)


def draw_waits(plot, waits, holds):
    """Each wait: a dotted bar on the waiter's lane of that lock, and an arrow to the lane of
    each task that held the lock when the wait began."""
    from matplotlib.collections import PolyCollection
    by_fam, h = {}, plot.hh
    for iv in waits:
        y = plot.lane_of[(iv.pid, iv.lock)] + plot.dy
        x0, x1 = plot.x(iv.start), (plot.x(iv.end) if iv.end is not None else plot.n - 0.5)
        by_fam.setdefault(lock_family(iv.lock), []).append(
            [(x0, y - h), (x0, y + h), (x1, y + h), (x1, y - h)])
    for fam, polys in by_fam.items():
        pc = PolyCollection(polys, facecolors=WAIT_STYLE["face"], edgecolors=LOCK_COLOURS[fam],
                            hatch=WAIT_STYLE["hatch"], linestyles=[WAIT_STYLE["linestyle"]],
                            linewidths=WAIT_STYLE["lw"], zorder=2)
        pc.set_gid(f"mmviz-wait-{fam}")
        pc._mmviz_side = plot.tag
        plot.ax.add_collection(pc)
    stuck = plot.trace.result.outcome == "deadlock"
    for iv in waits:
        y = plot.lane_of[(iv.pid, iv.lock)] + plot.dy
        x0 = plot.x(iv.start)
        x1 = plot.x(iv.end) if iv.end is not None else plot.n - 0.5
        names = []
        for holder in iv.holders:
            target = plot.lane_of.get((holder, iv.lock))
            if target is None:
                continue
            target += plot.dy
            names.append(plot.trace.task_label(holder))
            plot.ax.annotate("", xy=(x0, target + (h + 0.02 if target < y else -h - 0.02)),
                             xytext=(x0, y + (-h - 0.02 if target < y else h + 0.02)),
                             zorder=6, arrowprops=dict(arrowstyle="-|>", color="black", lw=1.3,
                                                       shrinkA=0, shrinkB=0))
        text = ("waits for " + ", ".join(names) if names else "waits") \
            + (": never granted" if iv.end is None and stuck else "")
        width_px = (x1 - x0) * plot.px_per_event
        if width_px >= len(text) * 5.0 * plot.scale + 10:
            plot.ax.text(x0 + 0.4, y, text, ha="left", va="center", fontsize=plot.fs(8),
                         color="black", zorder=5, bbox=dict(boxstyle="round,pad=0.1", fc="white",
                                                            ec="none", alpha=0.85))


def group_rules(plot, keys):
    """A rule above each task's group of lanes (the first one excepted)."""
    for y, key in enumerate(keys):
        if isinstance(key, tuple) and key[1] is None and y > 0:
            plot.ax.axhline(y - 0.5, color="#9a9a9a", lw=1.0, zorder=1)


def tasks_alt(trace, holds, waits) -> str:
    """The holds and waits of every task, in words (the picture's text alternative)."""
    def until(iv):
        return str(iv.end) if iv.end is not None else "the end"
    parts = [f"{trace.task_label(iv.pid)} holds {iv.lock} from event {max(iv.start, 0)} to "
             f"{until(iv)}" for iv in holds]
    parts += [f"{trace.task_label(iv.pid)} waits for {iv.lock} from event {iv.start} to "
              f"{until(iv)}" + (", held by " + ", ".join(trace.task_label(h) for h in iv.holders)
                                if iv.holders else "") for iv in waits]
    return "; ".join(parts)
