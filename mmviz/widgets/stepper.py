"""Stepper: walk through a recorded trace one event at a time, every pane following one cursor.

    from mmviz.scenarios import record
    from mmviz.widgets import Stepper
    Stepper(record("mapped-fail-hidden", kernel="v3"))

Play and the slider are linked in the browser (`jslink`), so playing needs no round trip
through the kernel to move the slider; every value change reaches `_on_index`, which
applies one frame of `mmviz.render.frame.FrameBuilder` (cached and built ahead by
`frames.FrameStore`) to the panes. The slider handle takes the keyboard focus:
ArrowLeft / ArrowRight step. `close()` closes every child widget and stops the background
thread, so a closed Stepper gives its memory back.
"""

from __future__ import annotations

import time

import ipywidgets as W

from ..render.frame import FrameBuilder
from ..render.narration_html import header_html
from ..trace import query as navigation
from ._ui import ErrorPane, SliderCursor, WeakCall, button, close_tree, scope_class
from .frames import FrameStore
from .panes import LayoutPane, MarksPane, SourcePane, TimelinePane

JUMPS = (("hook", "hook", "a driver hook is called"),
         ("lock", "lock", "the set of held locks changes"),
         ("vma", "vma", "a VMA is created, changed or removed"),
         ("error", "error", "an error is born (error, warning, or a failing return)"),
         ("violation", "violation", "the lock checker reports a broken rule"),
         ("switch", "switch", "another task runs (a race of several tasks)"))
WIDTH_IN = 6.3               # the pictures' width: the left column of a 1440x900 laptop
LAYOUT_IN = 2.2              # the layout's height: with the timeline, 779 px of notebook
NARRATION_PX = 108           # fixed: the pictures below never move as the words change
SIDE_PX = 640                # the height of the source / call graph / call stack / text pane
KEYS = ("Keys: on the slider ← → step, Home / End; in the <i>text</i> tab's event list ↑ ↓ "
        "step and PageDown / PageUp page forward / back (a presenter's clicker); Tab reaches "
        "every button (Enter or Space presses it).")


class Stepper(SliderCursor, W.VBox):
    """A trace stepper: source, layout, lock timeline, call graph, narration, banner.

    Two columns (the laptop layout): on the left the controls, a fixed-height narration, the
    layout and the lock timeline; on the right the trace's header and tabs of its source,
    call graph, call stack and text (the transcript, as an event list that steps too, and
    the address space as text). `index` gets or sets the cursor from Python; `panes` maps
    pane names to their widgets ('label', 'narration', 'banner', 'layout', 'timeline',
    'cursor', 'callgraph', 'callstack', 'source', 'marks', 'error', 'events', 'strip',
    'text', 'header'); `frame` is the Frame shown. width (inches) and scale (font size) are passed to
    the frame builder.
    """

    def __init__(self, trace, *, prerender: bool = True, cache_size: int = 512,
                 interval: int = 500, header: bool = True, width: float = WIDTH_IN,
                 scale: float = 1.0):
        self.trace = trace
        self._last = max(len(trace.events) - 1, 0)
        self.errors = ErrorPane()
        self._scope = scope_class()
        self.builder = FrameBuilder(trace, width=width, scale=scale, scope="." + self._scope,
                                    layout_height=LAYOUT_IN * scale).prepare()
        self._store = FrameStore(self.builder, maxsize=cache_size, prerender=prerender)
        self._targets = self.builder.targets
        self.last_apply_ms = None
        self.frame = None
        controls, nav = self._controls(interval)
        left, right = self._views(header)
        left.children = (controls, nav) + tuple(left.children)
        body = W.HBox([left, right], layout=W.Layout(flex_flow="row wrap",
                                                     align_items="flex-start"))
        super().__init__(children=[body, self.panes["marks"], self.errors.widget],
                         layout=W.Layout(padding="4px"))
        self.add_class("mmviz-stepper")
        self.add_class(self._scope)
        self.slider.observe(self.errors.guard(WeakCall(self, "_on_index", pass_args=True)),
                            names="value")
        self._apply(self._store.get(0))

    # --- building the view ----------------------------------------------------------------------
    def _controls(self, interval):
        self.play = W.Play(min=0, max=self._last, step=1, value=0, interval=interval,
                           description="play", layout=W.Layout(width="auto"))
        self.play.add_class("mmviz-play")
        self.slider = W.IntSlider(min=0, max=self._last, value=0, step=1, readout=False,
                                  continuous_update=True,
                                  layout=W.Layout(width="auto", flex="1 1 200px"))
        self.slider.add_class("mmviz-step-slider")
        self._link = W.jslink((self.play, "value"), (self.slider, "value"))
        label = W.HTML("", layout=W.Layout(margin="0 0 0 8px", flex="0 0 auto"))
        label.add_class("mmviz-step-label")
        self.panes = {"label": label}
        self.prev_button = button("◀ prev", "mmviz-prev", "previous event (ArrowLeft on the slider)")
        self.next_button = button("next ▶", "mmviz-next", "next event (ArrowRight on the slider)")
        self.prev_button.on_click(self.errors.guard(WeakCall(self, "step", -1)))
        self.next_button.on_click(self.errors.guard(WeakCall(self, "step", +1)))
        self.jump_buttons, jumps = {}, []
        for kind, word, why in JUMPS:
            if kind == "switch" and not self.trace.tasks:
                continue
            back = button("◀", f"mmviz-prev-{kind}", f"previous event where {why}", width="28px")
            fwd = button("▶", f"mmviz-next-{kind}", f"next event where {why}", width="28px")
            back.on_click(self.errors.guard(WeakCall(self, "jump", kind, -1)))
            fwd.on_click(self.errors.guard(WeakCall(self, "jump", kind, +1)))
            self.jump_buttons[(kind, -1)], self.jump_buttons[(kind, +1)] = back, fwd
            jumps.append(W.HBox([back, W.HTML(f"<span style='font-size:12px;padding:0 3px'>"
                                              f"{word}</span>"), fwd],
                                layout=W.Layout(margin="0 5px 0 0", align_items="center",
                                                flex="0 0 auto")))
        controls = W.HBox([self.play, self.prev_button, self.next_button, self.slider, label],
                          layout=W.Layout(align_items="center", width="100%"))
        nav = W.HBox([W.HTML("<span style='color:#555;margin:0 4px 0 2px;font-size:12px' "
                             "title='jump to the previous ◀ or next ▶ event of a kind'>"
                             "jump:</span>")] + jumps,
                     layout=W.Layout(align_items="center", flex_flow="row wrap"))
        return controls, nav

    def _views(self, header):
        b = self.builder
        banner = W.HTML("")
        banner.add_class("mmviz-banner")
        narration = W.HTML("")
        narration.add_class("mmviz-narration")
        words = W.VBox([banner, narration], layout=W.Layout(
            height=f"{NARRATION_PX}px", overflow="auto", border="1px solid #e3e3e3",
            padding="2px 6px", margin="4px 0"))
        words.add_class("mmviz-words")
        self._layout, self._marks = LayoutPane(), MarksPane()
        self._timeline = TimelinePane(b, title="")
        callstack = W.HTML("", layout=W.Layout(height=f"{SIDE_PX}px", overflow="auto"))
        callstack.add_class("mmviz-callstack")
        callgraph = W.HTML(b.callgraph_svg, layout=W.Layout(height=f"{SIDE_PX}px",
                                                            overflow="auto"))
        callgraph.add_class("mmviz-callgraph")
        self._source = SourcePane(b, W.Layout(height=f"{SIDE_PX}px", overflow="auto"))
        events = W.Select(options=[_event_line(b, i) for i in range(len(self.trace.events))]
                          or ["(no events)"], rows=10, layout=W.Layout(width="100%"))
        events.add_class("mmviz-events")
        self._events_link = (W.jslink((self.slider, "value"), (events, "index"))
                             if self.trace.events else None)
        strip = W.HTML("")
        strip.add_class("mmviz-strip")
        text = W.VBox([W.HTML(f"<div style='font-size:12px;color:#444'>The trace as text: "
                              f"the event list steps with the slider. {KEYS}</div>"),
                       events, strip], layout=W.Layout(height=f"{SIDE_PX}px", overflow="auto"))
        text.add_class("mmviz-text")
        self.panes.update({"narration": narration, "banner": banner,
                           "layout": self._layout.widget, "layout_caption": self._layout.caption,
                           "timeline": self._timeline.image,
                           "cursor": self._timeline.cursor, "callgraph": callgraph,
                           "callstack": callstack, "source": self._source.widget,
                           "marks": self._marks.widget, "error": self.errors.widget,
                           "events": events, "strip": strip, "text": text})
        left = W.VBox([words, self._layout.box, self._timeline.widget],
                      layout=W.Layout(width=f"{int(b.width * 100) + 8}px", max_width="100%"))
        left.add_class("mmviz-left")
        code = W.Tab(children=[self._source.widget, callgraph, callstack, text])
        for k, title in enumerate(("source", "call graph", "call stack", "text")):
            code.set_title(k, title)
        code.add_class("mmviz-code-tabs")
        self.tabs = code
        head = W.HTML(header_html(self.trace) if header else "")
        head.add_class("mmviz-header")
        self.panes["header"] = head
        right = W.VBox([head, code],
                       layout=W.Layout(flex="1 1 300px", min_width="280px",
                                       margin="0 0 0 10px"))
        right.add_class("mmviz-right")
        return left, right

    # --- cursor (index and step come from SliderCursor) ---------------------------------------
    def __len__(self):
        return len(self.trace.events)

    def jump(self, kind: str, direction: int = +1):
        """Move to the next (direction > 0) or previous event of a kind in navigation.JUMP_KINDS."""
        if kind not in self._targets:
            raise ValueError(f"unknown jump {kind!r}; choose one of "
                             + ", ".join(navigation.JUMP_KINDS))
        seqs = self._targets[kind]
        to = (navigation.next_target if direction > 0 else navigation.prev_target)(seqs, self.index)
        if to is not None:
            self.index = to
        return to

    # --- applying a frame (main thread only) ----------------------------------------------
    def _on_index(self, change):
        t0 = time.perf_counter()
        self._apply(self._store.get(change["new"]))
        self.last_apply_ms = (time.perf_counter() - t0) * 1e3

    def _apply(self, f):
        self.frame = f
        p = self.panes
        p["label"].value = f.label_html
        p["narration"].value = f.narration_html
        p["banner"].value = f.banner_html
        p["callstack"].value = f.callstack
        p["strip"].value = _strip_html(f)
        self._layout.show(f)
        self._timeline.show(f)
        self._source.show(f)
        self._marks.show(f)
        if f.errors:
            self.errors.show("; ".join(f.errors))
        else:
            self.errors.clear()
        i = max(f.index, 0)
        self.prev_button.disabled = i <= 0
        self.next_button.disabled = i >= self._last
        for (kind, d), b in self.jump_buttons.items():
            seqs = self._targets[kind]
            b.disabled = (navigation.next_target if d > 0 else navigation.prev_target)(seqs, i) is None

    @property
    def frames(self) -> FrameStore:
        return self._store

    def close(self):
        """Close every child widget, stop the background thread, drop the cached pictures."""
        store = getattr(self, "_store", None)
        if store is not None:
            store.close()
        for name in ("_link", "_events_link"):
            link = getattr(self, name, None)
            if link is not None:
                link.close()
        builder = getattr(self, "builder", None)
        if builder is not None:
            builder.close()
        self.frame = None
        close_tree(self, super().close)


def _event_line(builder, i) -> str:
    """One line of the event list: the transcript's line of event i (unique: it is numbered)."""
    from ..render.frame import transcript_line
    return transcript_line(builder.trace, builder.trace.events[i])


def _strip_html(f) -> str:
    """The frame's pictures as text: the layout in words and the ASCII strip."""
    import html
    return (f"<div style='font-size:12px;margin-top:6px'><b>address space as text</b> "
            f"({html.escape(f.label)})<pre style='font-size:12px;line-height:1.25;"
            f"margin:2px 0'>{html.escape(f.strip)}</pre><div>{html.escape(f.layout_alt)}</div>"
            f"</div>")
