"""Explorer(race): every single-switch schedule of a race of two tasks, judged, and the one
you pick stepped through.

The table (`render.explore_html`) shows which schedules break something — a deadlock, a lock
rule, an invariant, a different result — and which behave like the serial run; the menu
opens a schedule in a `Stepper` below, the shortest failing one first. Changing the kernel
explores the race again under that kernel (a fraction of a second: nothing is drawn).
"""

from __future__ import annotations

import ipywidgets as W

from ..model.variants import KERNELS
from ..render.explore_html import exploration_html, row_label
from ..scenarios import get_race, run_race
from ..scenarios.explore import explore, groups
from ._ui import ErrorPane, WeakCall, close_tree


class Explorer(W.VBox):
    """Explore `race` (a Race or a race's name) under `kernel`; `stepper` is the Stepper of
    the schedule chosen (`choose(k)`: B runs after A's k-th event; None: the serial run)."""

    def __init__(self, race, kernel: str = "v4", *, limit: int | None = None, **stepper_kw):
        self.race = get_race(race) if isinstance(race, str) else race
        self.limit, self._stepper_kw = limit, stepper_kw
        self.errors = ErrorPane()
        self.stepper = None
        self._quiet = False
        self.kernel = W.Dropdown(options=list(KERNELS), value=kernel, description="kernel",
                                 layout=W.Layout(width="200px"))
        self.menu = W.Dropdown(options=[], description="schedule",
                               layout=W.Layout(width="640px"),
                               style={"description_width": "70px"})
        self.table = W.HTML("")
        self.table.add_class("mmviz-explore-table")
        self._holder = W.VBox([])
        intro = W.HTML(f"<div style='font-size:13px'><b>{self.race.title}</b><br>"
                       f"{self.race.description}</div>")
        super().__init__(children=[intro, W.HBox([self.kernel, self.menu]), self.table,
                                   self.errors.widget, self._holder],
                         layout=W.Layout(padding="4px"))
        self.add_class("mmviz-explorer")
        self.kernel.observe(self.errors.guard(WeakCall(self, "_on_kernel", pass_args=True)),
                            names="value")
        self.menu.observe(self.errors.guard(WeakCall(self, "_on_menu", pass_args=True)),
                          names="value")
        self._explore()

    def _explore(self):
        self.exploration = ex = explore(self.race, self.kernel.value, self.limit)
        options = [(f"serial run: A to the end, then B — {ex.serial.verdict}", None)]
        options += [(row_label(ex, a, b, r), a) for a, b, r in groups(ex)]
        first = ex.shortest_failing
        chosen = first.switch_at if first is not None else None
        self._quiet = True                      # new options move the menu: open one, once
        try:
            self.menu.options = options
            self.menu.value = chosen
        finally:
            self._quiet = False
        self.choose(chosen)

    def _on_kernel(self, change):
        self._explore()

    def _on_menu(self, change):
        if not self._quiet:
            self.choose(change["new"])

    def choose(self, switch_at):
        """Record and show the schedule in which B runs after A's event `switch_at`."""
        ex = self.exploration
        if switch_at is None:
            run = ex.serial
        else:
            run = next((r for r in ex.runs if r.switch_at == switch_at), None)
            if run is None:
                raise ValueError(f"no schedule switches after A's event {switch_at}; choose "
                                 f"0 to {len(ex.runs) - 1}, or None for the serial run")
        from .stepper import Stepper
        trace = run_race(self.race, ex.kernel, schedule=run.schedule)
        old, self.stepper = self.stepper, Stepper(trace, **self._stepper_kw)
        self._holder.children = [self.stepper]
        if old is not None:
            old.close()
        self.table.value = exploration_html(ex, switch_at)
        self.errors.clear()
        return self.stepper

    def close(self):
        if self.stepper is not None:
            self.stepper.close()
            self.stepper = None
        close_tree(self, super().close)
