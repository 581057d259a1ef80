"""ScenarioBuilder: compose a scenario with controls, record it, step through it. No code.

The widget only maps controls to the options dict of `mmviz.scenarios.custom`, which does
all the deciding (what is possible, what the setup maps, what the title says). A
combination that cannot run is explained in the message line, never raised.
"""

from __future__ import annotations

import html

import ipywidgets as W

from ..scenarios import custom
from ._ui import ErrorPane, WeakCall, button, close_tree, one_line

LABELS = {"kernel": "kernel", "mmu": "MMU", "file": "file type", "lower": "lower file",
          "hide": "hide from rmap", "fail": "hook that fails", "errno": "with errno",
          "error_hook": "error_hook", "neighbours": "neighbours",
          "fixed_over": "MAP_FIXED over"}


class ScenarioBuilder(W.VBox):
    """Controls → `custom.build_custom(options)` → `Stepper` of the recorded trace.

    `options` (dict), `set(**options)`, `run()` → the Trace or None; `trace`, `stepper` and
    `message` (the last explanation shown) for tests and notebooks.
    """

    def __init__(self, **options):
        self.errors = ErrorPane()
        self.trace = None
        self.stepper = None
        self.message = ""
        c = self.controls = _controls()
        self.action = W.HTML("")
        self.action.add_class("mmviz-builder-action")
        self.msg = W.HTML("")
        self.msg.add_class("mmviz-builder-message")
        self.run_button = button("Run ▶", "mmviz-run", "record this scenario and step through it",
                                 style="success")
        self.run_button.on_click(self.errors.guard(WeakCall(self, "run")))
        self.output = W.VBox([])
        self.output.add_class("mmviz-builder-output")
        self._lower_row = W.HBox([c["lower"]])
        self.set(**{**custom.DEFAULTS, **options})
        for w in c.values():
            w.observe(self.errors.guard(WeakCall(self, "_changed", pass_args=True)),
                      names="value")
        super().__init__(children=[self._form(), self.errors.widget, self.output])
        self.add_class("mmviz-builder")
        self._changed(None)

    def _form(self):
        c = self.controls

        def row(*ws):
            return W.HBox(list(ws), layout=W.Layout(flex_flow="row wrap", align_items="center",
                                                    margin="1px 0"))
        return W.VBox([
            W.HTML("<b style='font-size:14px'>Scenario Builder</b> <span style='color:#555;"
                   "font-size:12px'>— choose, then Run: mmap() of 4 pages at 0x10001000 is "
                   "recorded and shown below</span>"),
            row(c["kernel"], c["mmu"]),
            row(c["file"], self._lower_row, self.action),
            row(c["fail"], c["errno"], c["error_hook"]),
            row(c["hide"], W.HTML("<span style='width:24px'></span>"), c["fixed_over"]),
            row(c["neighbours"]),
            row(self.run_button, self.msg),
        ], layout=W.Layout(border="1px solid #d0d7de", padding="6px 10px", margin="0 0 6px 0"))

    # --- options ---------------------------------------------------------------------------
    @property
    def options(self) -> dict:
        return {name: w.value for name, w in self.controls.items()}

    def set(self, **options):
        """Set controls from option values (as in custom.CHOICES); unknown values raise."""
        o = custom.normalise({**self.options, **options})
        for name, value in o.items():
            self.controls[name].value = value
        return self

    def _changed(self, _change):
        o = self.options
        self._lower_row.layout.display = None if o["file"] == "stacked" else "none"
        errno_used = o["fail"] != "none"
        self.controls["errno"].disabled = not errno_used
        self.action.value = (f"<span style='font-size:12px;color:#444;margin-left:8px'>action: "
                             f"{html.escape(custom.action_for(o['file'], o['lower']))}</span>")
        try:
            scenario = custom.build_custom(o)
        except Exception as exc:
            self._refused(exc)
            return
        self._say(scenario.title + (" — press Run: the stepper below shows the previous run"
                                    if self.stepper is not None else ""), "ready")

    def _refused(self, exc):
        """Say why, and take away the previous run's stepper: it no longer matches the
        controls, and a stepper beside a refusal reads as if it were this combination's."""
        self._say(f"Cannot run this combination: {one_line(exc)}", "refused")
        if self.stepper is not None:
            self.stepper.close()
            self.stepper = None
            self.trace = None
        self.output.children = []

    def _say(self, text, state):
        self.message = text if state != "ready" else ""
        colour = {"refused": "#8a1c1c", "ready": "#444444", "done": "#1a7f37"}[state]
        icon = {"refused": "⚠ ", "ready": "", "done": "✔ "}[state]
        self.msg.value = (f"<span class='mmviz-builder-{state}' style='font-size:12px;"
                          f"color:{colour};margin-left:8px'>{icon}{html.escape(text)}</span>")

    # --- running ------------------------------------------------------------------------------
    def run(self):
        """Record the scenario and show it; returns the Trace, or None with the reason shown."""
        o = self.options
        try:
            trace = custom.run_custom(o)
        except Exception as exc:        # InputError: a refused combination; anything else: say so
            self._refused(exc)
            return None
        from .stepper import Stepper
        if self.stepper is not None:
            self.stepper.close()
        self.trace = trace
        self.stepper = Stepper(trace)
        self.output.children = [self.stepper]
        from ..render.narration_html import result_text
        self._say(f"recorded {len(trace.events)} events under {trace.kernel}: mmap returns "
                  f"{result_text(trace.result)}", "done")
        self.errors.clear()
        return trace

    def close(self):
        """Close the Stepper of the last run and every control (memory is given back)."""
        if self.stepper is not None:
            self.stepper.close()
            self.stepper = None
        close_tree(self, super().close)


def _controls() -> dict:
    """One control per option of mmviz.scenarios.custom, each with its CSS class."""
    style = {"description_width": "118px"}
    wide = W.Layout(width="330px")
    c = {
        "kernel": W.ToggleButtons(options=list(custom.CHOICES["kernel"]), style=style,
                                  description=LABELS["kernel"]),
        "mmu": W.ToggleButtons(options=[("MMU", True), ("no MMU", False)], style=style,
                               description=LABELS["mmu"]),
        "file": W.Dropdown(options=list(custom.FILE_TYPES), style=style, layout=wide,
                           description=LABELS["file"]),
        "lower": W.Dropdown(options=list(custom.CHOICES["lower"]), style=style, layout=wide,
                            description=LABELS["lower"]),
        "hide": W.Checkbox(description="hide_from_rmap_until_complete", indent=False),
        "fail": W.Dropdown(options=list(custom.FAILS), style=style, layout=wide,
                           description=LABELS["fail"]),
        "errno": W.Dropdown(options=list(custom.ERRNOS), style=style, layout=wide,
                            description=LABELS["errno"]),
        "error_hook": W.Dropdown(options=[("no error_hook", "none")] +
                                 [(f"-{e}", e) for e in custom.ERRNOS], style=style,
                                 layout=wide, description=LABELS["error_hook"]),
        "neighbours": W.ToggleButtons(options=[("none", "none"), ("left", "left"),
                                               ("right", "right"), ("both", "both")],
                                      style=style, description=LABELS["neighbours"],
                                      tooltips=["no neighbour", "a mergeable VMA on the left",
                                                "a mergeable VMA on the right",
                                                "mergeable VMAs on both sides"]),
        "fixed_over": W.Checkbox(description="MAP_FIXED over an existing mapping",
                                 indent=False),
    }
    for name, w in c.items():
        w.add_class(f"mmviz-builder-{name.replace('_', '-')}")
    for w in (c["kernel"], c["mmu"], c["neighbours"]):
        w.style.button_width = "76px"
    return c

