"""Compare: two traces side by side, their events aligned, the differences marked.

    from mmviz.scenarios import record
    from mmviz.widgets import Compare
    Compare(record("mapped-fail-hidden", kernel="v3"), record("mapped-fail-hidden", kernel="v4"))

One slider walks the aligned rows (`mmviz.trace.align`); each side shows the event of that
row (or, where the row has none on that side, the state after its last event) and its layout
on an address axis shared by both traces so boxes line up. Below them ONE lock timeline
holds both runs on one x axis, the aligned row, with one cursor: the same moment of both
runs is at the same x (`render.timeline.compare_timeline_picture`).
"""

from __future__ import annotations

import html
import time
from dataclasses import dataclass

import ipywidgets as W

from ..render.frame import FrameBuilder
from ..render.layout_axis import axis_for
from ..render.narration import sentence
from ..render.narration_html import header_html, result_text
from ..trace import align as aligner
from ._ui import ErrorPane, SliderCursor, WeakCall, button, close_tree, scope_class
from .frames import FrameStore
from .panes import LayoutPane, TimelinePane

STATUS_STYLE = {"same": "", "changed": "background:#fff4d6;",
                "only-a": "background:#fde2e1;", "only-b": "background:#dff3e4;"}
STATUS_WORD = {"same": "", "changed": "changed", "only-a": "only in A", "only-b": "only in B"}
LAYOUT_WIDTH_IN = 4.9        # two layouts side by side in a ~1000 px notebook
TIMELINE_WIDTH_IN = 9.0      # the one timeline of both runs, full width (lanes need room)


@dataclass(frozen=True)
class CompareFrame:
    index: int
    label: str
    table: str
    sides: tuple          # two (Frame, note HTML or "", shown: does the row have an event)
    cursor_html: str = ""  # the cursor over the aligned timeline, at this row


class _RowBuilder:
    """The frames of one aligned row: each side's Frame (from one FrameBuilder per trace, on
    an axis and legend shared by both traces so boxes line up)."""

    def __init__(self, ta, tb, rows, scope):
        self.traces = (ta, tb)
        self.rows = rows
        self._timeline = None
        snaps = [s for t in (ta, tb) for s in [t.initial, *(e.snapshot for e in t.events),
                                               t.final]]
        axis = axis_for(snaps)
        self.builders = tuple(
            FrameBuilder(t, width=LAYOUT_WIDTH_IN, timeline=False, callstack=False,
                         scope=scope, axis=axis, legend_traces=(other,))
            for t, other in ((ta, tb), (tb, ta)))

    @property
    def trace(self):
        return self.traces[0]

    @property
    def timeline(self):
        """Both runs' lock timelines on one aligned x axis, drawn once."""
        if self._timeline is None:
            from ..render.timeline import compare_timeline_picture
            self._timeline = compare_timeline_picture(*self.traces, self.rows,
                                                      width=TIMELINE_WIDTH_IN)
        return self._timeline

    def frame(self, k) -> CompareFrame:
        sides = []
        for s, side in enumerate(("a", "b")):
            here = self.rows[k].a if side == "a" else self.rows[k].b
            seq = aligner.last_at_or_before(self.rows, k, side)
            name = side.upper()
            f = self.builders[s].frame(-1 if seq is None else seq, marked=here is not None)
            if seq is None:
                note = f"<i>{name} has not started yet: the state before the call.</i>"
            elif here is None:
                note = (f"<div style='color:#8a6d00;font-size:12px'>no matching event in "
                        f"{name}: showing its state after event {seq}</div>")
            else:
                note = ""
            sides.append((f, note, here is not None))
        return CompareFrame(k, self._label(k), self.table(k), tuple(sides),
                            self.timeline.cursor_html(k))

    def close(self):
        for b in self.builders:
            b.close()
        self._timeline = None

    def _label(self, k):
        r = self.rows[k]
        word = STATUS_WORD[r.status] or "same in both"
        if r.violation:
            word += " · violation"
        step = f" · step <b>{r.step}</b>" if r.step else ""
        return (f"<span style='font-size:13px'>row <b>{k}</b> / {len(self.rows) - 1}{step} · "
                f"{html.escape(word)}</span>")

    def table(self, k, context=6) -> str:
        ta, tb = self.traces
        rows = self.rows
        lo, hi = max(0, k - context), min(len(rows), k + context + 1)
        out = ["<table style='border-collapse:collapse;font-size:12px;width:100%;"
               "table-layout:fixed'><colgroup><col style='width:4.5em'><col><col "
               "style='width:4.5em'><col><col style='width:7.5em'></colgroup>"
               "<tr style='color:#555;text-align:left'><th>A #</th><th>A: " +
               html.escape(ta.kernel) + "</th><th>B #</th><th>B: " + html.escape(tb.kernel) +
               "</th><th>difference</th></tr>"]
        for j in range(lo, hi):
            r = rows[j]
            style = STATUS_STYLE[r.status]
            if r.violation:
                style = "background:#f9c7c5;font-weight:bold;"
            if j == k:
                style += "outline:2px solid #D55E00;"
            cells = []
            for seq, t in ((r.a, ta), (r.b, tb)):
                if seq is None:
                    cells += ["", "<span style='color:#aaa'>—</span>"]
                else:
                    e = t.events[seq]
                    mark = "✖ " if e.kind == "violation" else ""
                    text = html.escape(f"{mark}{e.kind} {sentence(e, t.kernel)}")
                    cells += [str(seq), f"<span title='{text}'>{text}</span>"]
            word = STATUS_WORD[r.status] + (" ✖ violation" if r.violation else "")
            cls = f"mmviz-row-{r.status}" + (" mmviz-row-violation" if r.violation else "")
            out.append(f"<tr class='{cls}' style='{style}'>" + "".join(
                           f"<td style='padding:1px 4px;white-space:nowrap;overflow:hidden;"
                           f"text-overflow:ellipsis'>{c}</td>" for c in cells)
                       + f"<td style='padding:1px 4px;color:#555'>{html.escape(word)}</td></tr>")
        out.append("</table>")
        return "".join(out)


class Compare(SliderCursor, W.VBox):
    """Two traces, one cursor over their aligned rows. `rows`, `index`, `panes` as in Stepper."""

    _cursor_unit = "row"

    def __init__(self, trace_a, trace_b, *, prerender: bool = True, cache_size: int = 256):
        self.traces = (trace_a, trace_b)
        self.rows = aligner.align(trace_a, trace_b)
        self.summary = aligner.summary(trace_a, trace_b, self.rows)
        self._diffs = aligner.differences(self.rows)
        self._last = max(len(self.rows) - 1, 0)
        self.errors = ErrorPane()
        self._scope = scope_class()
        self._rows = _RowBuilder(trace_a, trace_b, self.rows, "." + self._scope)
        self._store = FrameStore(self._rows, n=len(self.rows), maxsize=cache_size,
                                 prerender=prerender)
        self.last_apply_ms = None
        controls = self._controls()
        table = W.HTML("")
        table.add_class("mmviz-compare-table")
        self.panes.update({"table": table, "error": self.errors.widget})
        columns, timeline = self._sides()
        super().__init__(children=[self._info(), controls, table,
                                   W.HBox(columns, layout=W.Layout(flex_flow="row wrap",
                                                                   align_items="flex-start")),
                                   timeline, self.errors.widget])
        self.add_class("mmviz-compare")
        self.add_class(self._scope)
        self.slider.observe(self.errors.guard(WeakCall(self, "_on_index", pass_args=True)),
                            names="value")
        self._apply(self._store.get(0))

    def _controls(self):
        self.slider = W.IntSlider(min=0, max=self._last, value=0, readout=False,
                                  continuous_update=True, layout=W.Layout(width="360px"))
        self.slider.add_class("mmviz-compare-slider")
        self.slider.add_class("mmviz-step-slider")
        label = W.HTML("", layout=W.Layout(margin="0 0 0 10px"))
        label.add_class("mmviz-step-label")
        self.panes = {"label": label}
        self.buttons = {}
        for key, text, cls, tip, call in (
                ("prev", "◀ prev", "mmviz-prev", "previous row", ("step", -1)),
                ("next", "next ▶", "mmviz-next", "next row", ("step", +1)),
                ("prev_diff", "◀ difference", "mmviz-prev-diff", "previous row that differs",
                 ("jump_difference", -1)),
                ("next_diff", "difference ▶", "mmviz-next-diff", "next row that differs",
                 ("jump_difference", +1))):
            b = self.buttons[key] = button(text, cls, tip)
            b.on_click(self.errors.guard(WeakCall(self, *call)))
        return W.HBox([self.slider, label, *self.buttons.values()],
                      layout=W.Layout(align_items="center", flex_flow="row wrap"))

    def _sides(self):
        columns = []
        self._layouts = []
        for s, name in enumerate(("a", "b")):
            banner, narr = W.HTML(""), W.HTML("", layout=W.Layout(min_height="96px"))
            lay = LayoutPane(f"mmviz-layout-{name}")
            self._layouts.append(lay)
            banner.add_class(f"mmviz-banner-{name}")
            narr.add_class(f"mmviz-narration-{name}")
            self.panes.update({f"banner_{name}": banner, f"narration_{name}": narr,
                               f"layout_{name}": lay.widget})
            head = W.HTML("<div style='display:flex;gap:8px;align-items:flex-start'>"
                          f"<span style='background:#333;color:white;border-radius:4px;"
                          f"padding:1px 8px;font-weight:bold;font-size:15px'>{name.upper()}</span>"
                          + header_html(self.traces[s]) + "</div>")
            columns.append(W.VBox([head, banner, narr, lay.box],
                                  layout=W.Layout(flex="1 1 470px", min_width="440px",
                                                  max_width="640px", margin="0 8px 0 0")))
        ta, tb = self.traces
        self._timeline = TimelinePane(
            self._rows, "mmviz-timeline",
            title=(f"lock timelines of A ({html.escape(ta.kernel)}) and B "
                   f"({html.escape(tb.kernel)}) on one axis: the aligned row"),
            picture=self._rows.timeline)
        self.panes.update({"timeline": self._timeline.image, "cursor": self._timeline.cursor})
        box = W.VBox([self._timeline.widget], layout=W.Layout(width="912px", max_width="100%"))
        return columns, box

    def _info(self):
        ta, tb = self.traces
        sm = self.summary
        res = ("<b style='color:#D00000'>the results differ</b>" if sm["results_differ"]
               else "same result")
        return W.HTML(
            f"<div style='font-size:13px'>Comparing <code>{html.escape(ta.scenario)}</code> "
            f"under <b>{html.escape(ta.kernel)}</b> (A) and "
            f"<code>{html.escape(tb.scenario)}</code> "
            f"under <b>{html.escape(tb.kernel)}</b> (B): {res} (A "
            f"{html.escape(result_text(ta.result))}, B "
            f"{html.escape(result_text(tb.result))}); {sm['rows']} aligned rows, "
            f"{sm['changed']} changed, {sm['only-a']} only in A, {sm['only-b']} only in B, "
            f"{sm['violation_rows']} with a violation. Rows: "
            "<span style='background:#fde2e1;padding:0 4px'>only in A</span> "
            "<span style='background:#dff3e4;padding:0 4px'>only in B</span> "
            "<span style='background:#fff4d6;padding:0 4px'>changed</span> "
            "<span style='background:#f9c7c5;padding:0 4px;font-weight:bold'>violation</span>"
            "</div>")

    def jump_difference(self, direction=+1):
        from ..trace.query import next_target, prev_target
        to = (next_target if direction > 0 else prev_target)(self._diffs, self.index)
        if to is not None:
            self.index = to
        return to

    def _on_index(self, change):
        t0 = time.perf_counter()
        self._apply(self._store.get(change["new"]))
        self.last_apply_ms = (time.perf_counter() - t0) * 1e3

    def _apply(self, cf: CompareFrame):
        p = self.panes
        p["label"].value = cf.label
        p["table"].value = cf.table
        errors = []
        self._timeline.cursor.value = ("<div style='position:relative;width:100%;height:100%;"
                                       f"pointer-events:none'>{cf.cursor_html}</div>")
        for (f, note, here), name, lay in zip(cf.sides, ("a", "b"), self._layouts):
            narr = f.narration_html if not note or f.index < 0 else (
                f"<div style='opacity:0.55'>{f.narration_html}</div>")
            p[f"narration_{name}"].value = note + (narr if f.index >= 0 else "")
            p[f"banner_{name}"].value = f.banner_html if here else ""
            lay.show(f)
            errors += f.errors
        k = cf.index
        self.buttons["prev"].disabled = k <= 0
        self.buttons["next"].disabled = k >= self._last
        from ..trace.query import next_target, prev_target
        self.buttons["prev_diff"].disabled = prev_target(self._diffs, k) is None
        self.buttons["next_diff"].disabled = next_target(self._diffs, k) is None
        if errors:
            self.errors.show("; ".join(dict.fromkeys(errors)))
        else:
            self.errors.clear()

    def close(self):
        """Close every child widget, stop the background thread, drop the cached pictures."""
        store = getattr(self, "_store", None)
        if store is not None:
            store.close()
        rows = getattr(self, "_rows", None)
        if rows is not None:
            rows.close()
        close_tree(self, super().close)
