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
         ("error", "error", "an error is born (error, warning, or a failing return)"),
         ("violation", "violation", "the lock checker reports a broken rule"),
         ("switch", "switch", "another task runs (a race of several tasks)"))
WIDTH_IN = 7.0               # the pictures' width: a 712 px column beside the call stack


class Stepper(SliderCursor, W.VBox):
    """A trace stepper: source, layout, lock timeline, call graph, narration, banner.

    `index` gets or sets the cursor from Python; `panes` maps pane names to their widgets
    ('label', 'narration', 'banner', 'layout', 'timeline', 'cursor', 'callgraph', 'callstack',
    'source', 'marks', 'error'); `frame` is the Frame shown. width (inches) and scale (font
    size) are passed to the frame builder.
    """

    def __init__(self, trace, *, prerender: bool = True, cache_size: int = 512,
                 interval: int = 500, header: bool = True, width: float = WIDTH_IN,
                 scale: float = 1.0):
        self.trace = trace
        self._last = max(len(trace.events) - 1, 0)
        self.errors = ErrorPane()
        self._scope = scope_class()
        self.builder = FrameBuilder(trace, width=width, scale=scale,
                                    scope="." + self._scope).prepare()
        self._store = FrameStore(self.builder, maxsize=cache_size, prerender=prerender)
        self._targets = self.builder.targets
        self.last_apply_ms = None
        self.frame = None
        controls, nav = self._controls(interval)
        body, code = self._views()
        children = ([W.HTML(header_html(trace))] if header else []) + [
            controls, nav, self.panes["banner"], self.panes["narration"], body, code,
            self.panes["marks"], self.errors.widget]
        super().__init__(children=children, layout=W.Layout(padding="4px"))
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
                                  continuous_update=True, layout=W.Layout(width="360px"))
        self.slider.add_class("mmviz-step-slider")
        self._link = W.jslink((self.play, "value"), (self.slider, "value"))
        label = W.HTML("", layout=W.Layout(margin="0 0 0 10px"))
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
            back = button(f"◀ {word}", f"mmviz-prev-{kind}", f"previous event where {why}")
            fwd = button(f"{word} ▶", f"mmviz-next-{kind}", f"next event where {why}")
            back.on_click(self.errors.guard(WeakCall(self, "jump", kind, -1)))
            fwd.on_click(self.errors.guard(WeakCall(self, "jump", kind, +1)))
            self.jump_buttons[(kind, -1)], self.jump_buttons[(kind, +1)] = back, fwd
            jumps.append(W.HBox([back, fwd], layout=W.Layout(margin="0 6px 0 0")))
        controls = W.HBox([self.play, self.slider, label],
                          layout=W.Layout(align_items="center", flex_flow="row wrap"))
        nav = W.HBox([self.prev_button, self.next_button,
                      W.HTML("<span style='color:#666;margin:0 6px 0 12px'>jump to</span>")]
                     + jumps, layout=W.Layout(align_items="center", flex_flow="row wrap"))
        return controls, nav

    def _views(self):
        b = self.builder
        banner = W.HTML("")
        banner.add_class("mmviz-banner")
        narration = W.HTML("", layout=W.Layout(min_height="88px"))
        narration.add_class("mmviz-narration")
        self._layout, self._timeline, self._marks = LayoutPane(), TimelinePane(b), MarksPane()
        callstack = W.HTML("", layout=W.Layout(max_height="520px", overflow="auto",
                                                border="1px solid #e3e3e3"))
        callstack.add_class("mmviz-callstack")
        callgraph = W.HTML(b.callgraph_svg, layout=W.Layout(max_height="420px", overflow="auto"))
        callgraph.add_class("mmviz-callgraph")
        self._source = SourcePane(b, W.Layout(max_height="420px", overflow="auto"))
        self.panes.update({"narration": narration, "banner": banner,
                           "layout": self._layout.widget, "layout_caption": self._layout.caption,
                           "timeline": self._timeline.image,
                           "cursor": self._timeline.cursor, "callgraph": callgraph,
                           "callstack": callstack, "source": self._source.widget,
                           "marks": self._marks.widget, "error": self.errors.widget})
        pictures = W.VBox([_titled("address space (VMAs this event changed: vermillion halo ▼)",
                                   self._layout.box),
                           _titled("lock timeline", self._timeline.widget)],
                          layout=W.Layout(width=f"{int(b.width * 100) + 12}px", max_width="100%"))
        side = W.VBox([_titled("call stack (the current call outlined)", callstack)],
                      layout=W.Layout(flex="1 1 260px", min_width="250px", margin="0 0 0 8px"))
        body = W.HBox([pictures, side], layout=W.Layout(flex_flow="row wrap",
                                                        align_items="flex-start"))
        code = W.Tab(children=[self._source.widget, callgraph])
        code.set_title(0, "source")
        code.set_title(1, "call graph")
        code.add_class("mmviz-code-tabs")
        self.tabs = code
        return body, code

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
        link = getattr(self, "_link", None)
        if link is not None:
            link.close()
        builder = getattr(self, "builder", None)
        if builder is not None:
            builder.close()
        self.frame = None
        close_tree(self, super().close)


def _titled(text, w):
    return W.VBox([W.HTML(f"<b style='font-size:12px;color:#444'>{text}</b>"), w],
                  layout=W.Layout(margin="0 0 6px 0"))
