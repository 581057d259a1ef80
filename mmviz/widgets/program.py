"""ProgramRunner: type a few system calls, run them on the model, step through every view,
and check them against the running kernel.

    from mmviz.widgets import ProgramRunner
    ProgramRunner()                                   # an empty process
    ProgramRunner(maps=open("/proc/self/maps").read())  # your own process's address space

The text box takes one call per line (`mmviz.scenarios.program`: mmap, munmap, mprotect,
touch, read, and the newer calls where the model has them), written with numbers, `base`,
`P` and constants such as `PROT_READ|PROT_WRITE`. *Run* records the program and shows a
`Stepper` of it; *check against this kernel* replays it with real system calls in a private
window of this process (Linux) and shows both /proc/self/maps views (lesson 02's check).
A mistake (a typo, an unknown call, a bad number) is one line in the message, never a
traceback; the stepper of the last good run is taken away, since it no longer matches.
"""

from __future__ import annotations

import html

import ipywidgets as W

from ..scenarios import program
from ._ui import ErrorPane, WeakCall, button, close_tree, one_line

EXAMPLE = """\
mmap(base, 6*P, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS|MAP_FIXED)
mprotect(base + 2*P, 2*P, PROT_READ)     # split in three
touch(base)                              # a write fault: anon_vma
munmap(base + 5*P, P)                    # trim the end
"""


class ProgramRunner(W.VBox):
    """A text box of calls → a recorded trace → a Stepper; and the live check.

    `text`, `run()` → Trace or None, `check_live()` → Comparison or None, `trace`,
    `stepper`, `message` (the last line said)."""

    def __init__(self, text: str = EXAMPLE, maps: str | None = None, kernel: str = "v4"):
        from ..model.world import KERNELS
        self.errors = ErrorPane()
        self.maps = maps
        self.trace = None
        self.stepper = None
        self.message = ""
        self.box = W.Textarea(value=text, rows=7, layout=W.Layout(width="100%"),
                              placeholder="one call per line, e.g. munmap(base, 2*P)")
        self.box.add_class("mmviz-program-text")
        self.kernel = W.ToggleButtons(options=list(KERNELS), value=kernel,
                                      description="kernel", style={"button_width": "76px"})
        self.kernel.add_class("mmviz-program-kernel")
        starts = [("an empty process", "empty")]
        if maps:
            starts.append(("the address space you gave (maps)", "maps"))
        self.start = W.Dropdown(options=starts, value="maps" if maps else "empty",
                                description="start from", layout=W.Layout(width="360px"))
        self.start.add_class("mmviz-program-start")
        self.run_button = button("Run ▶", "mmviz-run", "record the program and step through it",
                                 style="success")
        self.live_button = button("check against this kernel", "mmviz-live-check",
                                  "the same calls with real system calls in a private window")
        self.run_button.on_click(self.errors.guard(WeakCall(self, "run")))
        self.live_button.on_click(self.errors.guard(WeakCall(self, "check_live")))
        self.msg = W.HTML("")
        self.msg.add_class("mmviz-program-message")
        self.live = W.HTML("")
        self.live.add_class("mmviz-program-live")
        self.output = W.VBox([])
        self.output.add_class("mmviz-program-output")
        help_ = W.HTML(
            "<div style='font-size:12px;color:#444'>One call per line: "
            + ", ".join(f"<code>{c}</code>" for c in program.available_calls())
            + ". Numbers, <code>base</code> (0x10000000 in the model, the live window's start "
            "when checked), <code>P</code> (a page), and constants such as "
            "<code>PROT_READ|PROT_WRITE</code>, <code>MAP_PRIVATE|MAP_ANONYMOUS|MAP_FIXED</code>."
            " <code>#</code> starts a comment.</div>")
        super().__init__(children=[
            W.HTML("<b style='font-size:14px'>Your own program</b>"), help_, self.box,
            W.HBox([self.kernel, self.start], layout=W.Layout(flex_flow="row wrap")),
            W.HBox([self.run_button, self.live_button, self.msg],
                   layout=W.Layout(align_items="center", flex_flow="row wrap")),
            self.live, self.errors.widget, self.output])
        self.add_class("mmviz-program")

    @property
    def text(self) -> str:
        return self.box.value

    @text.setter
    def text(self, value: str):
        self.box.value = value

    def _say(self, text, state):
        self.message = text
        colour = {"refused": "#8a1c1c", "done": "#1a7f37"}[state]
        icon = {"refused": "⚠ ", "done": "✔ "}[state]
        self.msg.value = (f"<span class='mmviz-program-{state}' style='font-size:13px;"
                          f"color:{colour};margin-left:8px'>{icon}{html.escape(text)}</span>")

    def _drop_stepper(self):
        if self.stepper is not None:
            self.stepper.close()
            self.stepper = None
        self.trace = None
        self.output.children = []

    def run(self):
        """Record the program and show it; returns the Trace, or None with the reason said."""
        maps = self.maps if self.start.value == "maps" else None
        try:
            trace = program.run_program(self.text, maps=maps, kernel=self.kernel.value)
        except Exception as exc:          # ProgramError: one line; anything else: say so too
            self._drop_stepper()
            self._say(one_line(exc), "refused")
            return None
        from .stepper import Stepper
        self._drop_stepper()
        self.trace = trace
        self.stepper = Stepper(trace)
        self.output.children = [self.stepper]
        calls = sum(1 for e in trace.events if e.what == "program_call")
        self._say(f"recorded {calls} call{'s' if calls != 1 else ''}, {len(trace.events)} "
                  f"events under {trace.kernel}: the last returns {trace.result.summary()}",
                  "done")
        self.errors.clear()
        return trace

    def check_live(self):
        """The program on a fresh model World and in a private window of this process."""
        try:
            cmp = program.live_check(self.text, kernel=self.kernel.value)
        except Exception as exc:
            self.live.value = ""
            self._say(one_line(exc), "refused")
            return None
        note = ("" if self.start.value == "empty" else
                "<div style='font-size:12px;color:#555'>(the live check starts from an empty "
                "window, not from the address space you gave)</div>")
        self.live.value = note + cmp._repr_html_()
        self._say("the model and this machine's kernel " + (
            "agree" if cmp.same else "differ" if cmp.kernel is not None else
            f"could not be compared: {cmp.note}"), "done" if cmp.same else "refused")
        return cmp

    def close(self):
        self._drop_stepper()
        close_tree(self, super().close)
