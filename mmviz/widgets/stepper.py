"""Stepper: walk through a recorded trace one event at a time, every pane following one cursor.

    from mmviz.scenarios import record
    from mmviz.widgets import Stepper
    Stepper(record("mapped-fail-hidden", kernel="v3"))

Play and the slider are linked in the browser (`jslink`), so playing needs no round trip
through the kernel to move the slider; every value change reaches `_on_index`, which
applies one pre-rendered frame (see `frames.py`) to the panes. The slider handle takes
the keyboard focus: ArrowLeft / ArrowRight step.
"""

from __future__ import annotations

import time

import ipywidgets as W

from ..trace import query as navigation
from . import narrate
from ._ui import ErrorPane, SliderCursor, button
from .frames import FrameRenderer, FrameStore

JUMPS = (("hook", "hook", "a driver hook is called"),
         ("lock", "lock", "the set of held locks changes"),
         ("error", "error", "an error is born (error, warning, or a failing return)"),
         ("violation", "violation", "the lock checker reports a broken rule"))


class Stepper(SliderCursor, W.VBox):
    """A trace stepper: source, layout, lock timeline, call graph, narration, banner.

    `index` gets or sets the cursor from Python; `panes` maps pane names to their widgets
    ('label', 'narration', 'banner', 'layout', 'timeline', 'callgraph', 'source', 'error').
    """

    def __init__(self, trace, *, fast: bool = True, prerender: bool = True,
                 cache_size: int = 512, interval: int = 500, header: bool = True):
        self.trace = trace
        n = len(trace.events)
        self._last = max(n - 1, 0)
        self.errors = ErrorPane()
        self._store = FrameStore(FrameRenderer(trace, fast=fast), maxsize=cache_size,
                                 prerender=prerender)
        self._targets = navigation.targets(trace)
        self.last_apply_ms = None

        self.play = W.Play(min=0, max=self._last, step=1, value=0, interval=interval,
                           description="play", layout=W.Layout(width="auto"))
        self.play.add_class("mmviz-play")
        self.slider = W.IntSlider(min=0, max=self._last, value=0, step=1, readout=False,
                                  continuous_update=True, layout=W.Layout(width="360px"))
        self.slider.add_class("mmviz-step-slider")
        self._link = W.jslink((self.play, "value"), (self.slider, "value"))
        label = W.HTML("", layout=W.Layout(margin="0 0 0 10px"))
        label.add_class("mmviz-step-label")

        self.prev_button = button("◀ prev", "mmviz-prev",
                                  "previous event (ArrowLeft on the slider)")
        self.next_button = button("next ▶", "mmviz-next", "next event (ArrowRight on the slider)")
        self.prev_button.on_click(self.errors.guard(lambda _: self.step(-1)))
        self.next_button.on_click(self.errors.guard(lambda _: self.step(+1)))
        self.jump_buttons = {}
        jumps = []
        for kind, word, why in JUMPS:
            back = button(f"◀ {word}", f"mmviz-prev-{kind}", f"previous event where {why}")
            fwd = button(f"{word} ▶", f"mmviz-next-{kind}", f"next event where {why}")
            back.on_click(self.errors.guard(lambda _, k=kind: self.jump(k, -1)))
            fwd.on_click(self.errors.guard(lambda _, k=kind: self.jump(k, +1)))
            self.jump_buttons[(kind, -1)] = back
            self.jump_buttons[(kind, +1)] = fwd
            jumps.append(W.HBox([back, fwd], layout=W.Layout(margin="0 6px 0 0")))

        banner = W.HTML("")
        banner.add_class("mmviz-banner")
        narration = W.HTML("", layout=W.Layout(min_height="88px"))
        narration.add_class("mmviz-narration")
        layout_img = W.Image(format="png", layout=W.Layout(max_width="100%"))
        layout_img.add_class("mmviz-layout")
        timeline_img = W.Image(format="png", layout=W.Layout(max_width="100%"))
        timeline_img.add_class("mmviz-timeline")
        callstack = W.HTML("", layout=W.Layout(max_height="520px", overflow="auto",
                                                border="1px solid #e3e3e3"))
        callstack.add_class("mmviz-callstack")
        callgraph = W.HTML("", layout=W.Layout(max_height="420px", overflow="auto"))
        callgraph.add_class("mmviz-callgraph")
        source = W.HTML("", layout=W.Layout(max_height="420px", overflow="auto"))
        source.add_class("mmviz-source")
        self.panes = {"label": label, "narration": narration, "banner": banner,
                      "layout": layout_img, "timeline": timeline_img, "callgraph": callgraph,
                      "callstack": callstack, "source": source, "error": self.errors.widget}

        def titled(text, w):
            return W.VBox([W.HTML(f"<b style='font-size:12px;color:#444'>{text}</b>"), w],
                          layout=W.Layout(margin="0 0 6px 0"))

        controls = W.HBox([self.play, self.slider, label],
                          layout=W.Layout(align_items="center", flex_flow="row wrap"))
        nav = W.HBox([self.prev_button, self.next_button,
                      W.HTML("<span style='color:#666;margin:0 6px 0 12px'>jump to</span>")]
                     + jumps, layout=W.Layout(align_items="center", flex_flow="row wrap"))
        pictures = W.VBox([titled("address space (VMAs this event changed: orange halo ▼)",
                                  layout_img), titled("lock timeline", timeline_img)],
                          layout=W.Layout(width="712px", max_width="100%"))
        side = W.VBox([titled("call stack (the current call outlined)", callstack)],
                      layout=W.Layout(flex="1 1 260px", min_width="250px", margin="0 0 0 8px"))
        body = W.HBox([pictures, side], layout=W.Layout(flex_flow="row wrap",
                                                        align_items="flex-start"))
        code = W.Tab(children=[source, callgraph])
        code.set_title(0, "source")
        code.set_title(1, "call graph")
        code.add_class("mmviz-code-tabs")
        self.tabs = code
        children = ([W.HTML(narrate.header_html(trace))] if header else []) + [
            controls, nav, banner, narration, body, code, self.errors.widget]
        super().__init__(children=children, layout=W.Layout(padding="4px"))
        self.add_class("mmviz-stepper")
        self.slider.observe(self.errors.guard(self._on_index), names="value")
        self._apply(self._store.get(0))

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
        p = self.panes
        p["label"].value = f.label
        p["narration"].value = f.narration
        p["banner"].value = f.banner
        p["layout"].value = f.layout
        p["timeline"].value = f.timeline
        p["callgraph"].value = f.callgraph
        p["callstack"].value = f.callstack
        p["source"].value = f.source
        i = f.index
        self.prev_button.disabled = i <= 0
        self.next_button.disabled = i >= self._last
        for (kind, d), b in self.jump_buttons.items():
            seqs = self._targets[kind]
            has = (navigation.next_target if d > 0 else navigation.prev_target)(seqs, i)
            b.disabled = has is None
        if f.errors:
            self.errors.show("; ".join(f.errors))
        else:
            self.errors.clear()

    @property
    def frames(self) -> FrameStore:
        return self._store

    def close(self):
        store = getattr(self, "_store", None)
        if store is not None:
            store.close()
        super().close()
