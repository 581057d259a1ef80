"""Compare: two traces side by side, their events aligned, the differences marked.

    from mmviz.scenarios import record
    from mmviz.widgets import Compare
    Compare(record("mapped-fail-hidden", kernel="v3"), record("mapped-fail-hidden", kernel="v4"))

One slider walks the aligned rows (`align.py`); each side shows the event of that row (or,
where the row has none on that side, the state after its last event), its layout on an
axis shared by both traces so boxes line up, and its lock timeline.
"""

from __future__ import annotations

import html
import time
from dataclasses import dataclass

import ipywidgets as W

from ..render.narration import sentence
from . import align as aligner
from . import narrate
from ._ui import ErrorPane, SliderCursor, button
from .frames import FrameStore

STATUS_STYLE = {"same": "", "changed": "background:#fff4d6;",
                "only-a": "background:#fde2e1;", "only-b": "background:#dff3e4;"}
STATUS_WORD = {"same": "", "changed": "changed", "only-a": "only in A", "only-b": "only in B"}


@dataclass(frozen=True)
class CompareFrame:
    index: int
    label: str
    table: str
    sides: tuple          # two (narration, banner, layout PNG, timeline PNG)


class _RowRenderer:
    def __init__(self, ta, tb, rows):
        import threading

        from .fastdraw import address_axis, all_snapshots
        self.traces = (ta, tb)
        self.rows = rows
        snaps = list(all_snapshots(ta)) + list(all_snapshots(tb))
        self.snapshots = snaps
        self.axis = address_axis(snaps)
        self._local = threading.local()

    def _drawers(self):
        d = getattr(self._local, "d", None)
        if d is None:
            from .fastdraw import LayoutDrawer, timeline_drawer
            # layouts: two columns side by side in a ~1000 px notebook; timelines: full width,
            # one above the other (a lock timeline needs the width for its lanes and legend)
            d = (LayoutDrawer(self.axis, self.snapshots, height_in=2.4, width_in=4.9),
                 timeline_drawer(self.traces[0]), timeline_drawer(self.traces[1]))
            self._local.d = d
        return d

    def render(self, k) -> CompareFrame:
        from ..render.layout import changed_vmas
        rows = self.rows
        d = self._drawers()
        sides = []
        for s, side in enumerate(("a", "b")):
            t = self.traces[s]
            here = rows[k].a if side == "a" else rows[k].b
            seq = aligner.last_at_or_before(rows, k, side)
            name = "A" if side == "a" else "B"
            if seq is None:
                snap, narr, banner = t.initial, (f"<i>{name} has not started yet: the state "
                                                 "before the call.</i>"), ""
                hl, tl = set(), d[1 + s].draw(-1)
            else:
                snap = t.events[seq].snapshot
                narr = narrate.narration_html(t, seq)
                if here is None:
                    narr = (f"<div style='color:#8a6d00;font-size:12px'>no matching event in "
                            f"{name}: showing its state after event {seq}</div>"
                            f"<div style='opacity:0.55'>{narr}</div>")
                banner = narrate.banner_html(t, seq) if here is not None else ""
                hl = set(changed_vmas(t, seq)) if here is not None else set()
                tl = d[1 + s].draw(seq)
            title = f"{name} · {t.kernel}"
            sides.append((narr, banner, d[0].draw(snap, hl, title), tl))
        label = self._label(k)
        return CompareFrame(k, label, self.table(k), tuple(sides))

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
        self._store = FrameStore(_RowRenderer(trace_a, trace_b, self.rows), n=len(self.rows),
                                 maxsize=cache_size, prerender=prerender)
        self.last_apply_ms = None

        self.slider = W.IntSlider(min=0, max=self._last, value=0, readout=False,
                                  continuous_update=True, layout=W.Layout(width="360px"))
        self.slider.add_class("mmviz-compare-slider")
        self.slider.add_class("mmviz-step-slider")
        label = W.HTML("", layout=W.Layout(margin="0 0 0 10px"))
        label.add_class("mmviz-step-label")
        prev_b = button("◀ prev", "mmviz-prev", "previous row")
        next_b = button("next ▶", "mmviz-next", "next row")
        prev_d = button("◀ difference", "mmviz-prev-diff", "previous row that differs")
        next_d = button("difference ▶", "mmviz-next-diff", "next row that differs")
        prev_b.on_click(self.errors.guard(lambda _: self.step(-1)))
        next_b.on_click(self.errors.guard(lambda _: self.step(+1)))
        prev_d.on_click(self.errors.guard(lambda _: self.jump_difference(-1)))
        next_d.on_click(self.errors.guard(lambda _: self.jump_difference(+1)))
        self.buttons = {"prev": prev_b, "next": next_b, "prev_diff": prev_d, "next_diff": next_d}

        table = W.HTML("")
        table.add_class("mmviz-compare-table")
        self.panes = {"label": label, "table": table, "error": self.errors.widget}
        columns, timelines = [], []
        for s, name in enumerate(("a", "b")):
            banner, narr = W.HTML(""), W.HTML("", layout=W.Layout(min_height="96px"))
            img, tl = (W.Image(format="png", layout=W.Layout(max_width="100%")),
                       W.Image(format="png", layout=W.Layout(max_width="100%")))
            banner.add_class(f"mmviz-banner-{name}")
            narr.add_class(f"mmviz-narration-{name}")
            img.add_class(f"mmviz-layout-{name}")
            tl.add_class(f"mmviz-timeline-{name}")
            self.panes.update({f"banner_{name}": banner, f"narration_{name}": narr,
                               f"layout_{name}": img, f"timeline_{name}": tl})
            head = W.HTML("<div style='display:flex;gap:8px;align-items:flex-start'>"
                          f"<span style='background:#333;color:white;border-radius:4px;"
                          f"padding:1px 8px;font-weight:bold;font-size:15px'>{name.upper()}</span>"
                          + narrate.header_html(self.traces[s]) + "</div>")
            columns.append(W.VBox([head, banner, narr, img],
                                  layout=W.Layout(flex="1 1 470px", min_width="440px",
                                                  max_width="640px", margin="0 8px 0 0")))
            timelines.append(W.VBox([W.HTML(f"<b style='font-size:12px;color:#444'>lock "
                                            f"timeline of {name.upper()} "
                                            f"({self.traces[s].kernel})</b>"), tl]))
        ta, tb = self.traces
        res = ("<b style='color:#d1242f'>the results differ</b>" if self.summary["results_differ"]
               else "same result")
        sm = self.summary
        info = W.HTML(
            f"<div style='font-size:13px'>Comparing <code>{html.escape(ta.scenario)}</code> "
            f"under <b>{html.escape(ta.kernel)}</b> (A) and "
            f"<code>{html.escape(tb.scenario)}</code> "
            f"under <b>{html.escape(tb.kernel)}</b> (B): {res} (A "
            f"{html.escape(narrate.result_text(ta.result))}, B "
            f"{html.escape(narrate.result_text(tb.result))}); {sm['rows']} aligned rows, "
            f"{sm['changed']} changed, {sm['only-a']} only in A, {sm['only-b']} only in B, "
            f"{sm['violation_rows']} with a violation. Rows: "
            "<span style='background:#fde2e1;padding:0 4px'>only in A</span> "
            "<span style='background:#dff3e4;padding:0 4px'>only in B</span> "
            "<span style='background:#fff4d6;padding:0 4px'>changed</span> "
            "<span style='background:#f9c7c5;padding:0 4px;font-weight:bold'>violation</span>"
            "</div>")
        controls = W.HBox([self.slider, label, prev_b, next_b, prev_d, next_d],
                          layout=W.Layout(align_items="center", flex_flow="row wrap"))
        super().__init__(children=[info, controls, table,
                                   W.HBox(columns, layout=W.Layout(flex_flow="row wrap",
                                                                   align_items="flex-start")),
                                   W.HBox(timelines, layout=W.Layout(flex_flow="row wrap")),
                                   self.errors.widget])
        self.add_class("mmviz-compare")
        self.slider.observe(self.errors.guard(self._on_index), names="value")
        self._apply(self._store.get(0))

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

    def _apply(self, f: CompareFrame):
        p = self.panes
        p["label"].value = f.label
        p["table"].value = f.table
        for (narr, banner, img, tl), name in zip(f.sides, ("a", "b")):
            p[f"narration_{name}"].value = narr
            p[f"banner_{name}"].value = banner
            p[f"layout_{name}"].value = img
            p[f"timeline_{name}"].value = tl
        k = f.index
        self.buttons["prev"].disabled = k <= 0
        self.buttons["next"].disabled = k >= self._last
        from ..trace.query import next_target, prev_target
        self.buttons["prev_diff"].disabled = prev_target(self._diffs, k) is None
        self.buttons["next_diff"].disabled = next_target(self._diffs, k) is None
        self.errors.clear()

    def close(self):
        store = getattr(self, "_store", None)
        if store is not None:
            store.close()
        super().close()
