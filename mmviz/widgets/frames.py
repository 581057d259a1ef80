"""Frames: everything the stepper's panes show at one cursor position, rendered ahead of time.

`FrameRenderer.render(i)` turns event i of a trace into bytes and strings (no widgets).
`FrameStore` keeps an LRU cache of frames and a background thread that renders the frames
around the cursor before the reader gets there. The thread only produces bytes: widgets are
updated by the caller, on the kernel's main thread (ipywidgets is not thread-safe).
"""

from __future__ import annotations

import atexit
import threading
import time
import weakref
from collections import OrderedDict
from dataclasses import dataclass, field

from ..render.layout import changed_vmas, layout_png
from ..render.source import source_html
from ..render.timeline import timeline_png
from . import narrate
from .callgraph_pane import CallgraphCache, callstack_svg


@dataclass(frozen=True)
class Frame:
    index: int
    label: str                 # step label HTML ("event 12 / 82 · step S3")
    narration: str             # HTML
    banner: str                # HTML, "" when there is nothing to say
    layout: bytes              # PNG
    timeline: bytes            # PNG
    callgraph: str             # HTML with an SVG (the renderer's Graphviz call graph)
    source: str                # HTML
    callstack: str = ""        # HTML with an SVG (the compact tree of calls so far)
    errors: tuple = field(default=())      # one-line messages from panes that failed


def layout_key(snap, highlight):
    """Everything the layout picture shows of a snapshot (not the stack or the locks)."""
    return (snap.vmas, snap.i_mmap, snap.map_count, snap.pending_action,
            frozenset(highlight or ()))


class FrameRenderer:
    """Renders frames of one trace. Thread-safe: each thread gets its own figures."""

    def __init__(self, trace, fast: bool = True):
        from .fastdraw import address_axis, all_snapshots
        self.trace = trace
        self.fast = fast
        self.snapshots = tuple(all_snapshots(trace))
        self.axis = address_axis(self.snapshots)
        self._local = threading.local()
        self._callgraph = CallgraphCache(trace)
        self._layouts = {}                 # layout PNGs by what they show (see layout_key)
        self._memo_lock = threading.Lock()

    def _drawers(self):
        d = getattr(self._local, "drawers", None)
        if d is None:
            from .fastdraw import LayoutDrawer, timeline_drawer
            d = (LayoutDrawer(self.axis, self.snapshots), timeline_drawer(self.trace))
            self._local.drawers = d
        return d

    def layout_png(self, snap, highlight) -> bytes:
        """The fast layout picture, drawn once per distinct state (consecutive events that
        change nothing on screen share one PNG)."""
        key = layout_key(snap, highlight)
        with self._memo_lock:
            png = self._layouts.get(key)
        if png is None:
            png = self._drawers()[0].draw(snap, highlight)
            with self._memo_lock:
                if len(self._layouts) > 1024:
                    self._layouts.clear()
                self._layouts[key] = png
        return png

    def render(self, i: int) -> Frame:
        t = self.trace
        errors = []

        def attempt(what, fn, fallback):
            try:
                return fn()
            except Exception as exc:       # a broken renderer must not break stepping
                first = str(exc).splitlines()[0] if str(exc) else ""
                errors.append(f"{what}: {type(exc).__name__}: {first}")
                return fallback

        if not t.events:
            snap = t.initial
            return Frame(0, narrate.step_label(t, 0), narrate.narration_html(t, 0), "",
                         attempt("layout", lambda: self._drawers()[0].draw(snap), b""),
                         attempt("timeline", lambda: self._drawers()[1].draw(0), b""), "", "")
        snap = t.events[i].snapshot
        hl = attempt("changed VMAs", lambda: set(changed_vmas(t, i)), set())
        title = narrate.layout_title(t, i)
        layout = timeline = None
        if not self.fast:
            layout = attempt("layout", lambda: layout_png(snap, highlight=hl, title=title, axis=self.axis), None)
            timeline = attempt("timeline", lambda: timeline_png(t, cursor=i), None)
        if layout is None:
            layout = attempt("layout", lambda: self.layout_png(snap, hl), b"")
        if timeline is None:
            timeline = attempt("timeline", lambda: self._drawers()[1].draw(i), b"")
        callgraph = attempt("call graph", lambda: self._callgraph.svg(i), "")
        callstack = attempt("call stack", lambda: callstack_svg(t, i), "")
        source = attempt("source", lambda: source_html(t.events[i]), "")
        return Frame(i, narrate.step_label(t, i), narrate.narration_html(t, i),
                     narrate.banner_html(t, i), layout, timeline, callgraph, source,
                     callstack=callstack, errors=tuple(errors))


class FrameStore:
    """An LRU cache of frames, filled on demand and by a background thread near the cursor.

    `renderer` is anything with `render(i)` returning an object with `.index` (a
    FrameRenderer, or the Compare widget's row renderer); `n` is the number of positions.
    """

    def __init__(self, renderer, n: int | None = None, maxsize: int = 512,
                 prerender: bool = True, window: int = 64):
        self.renderer = renderer
        self.n = max(len(renderer.trace.events) if n is None else n, 1)
        self.maxsize = max(maxsize, 2)
        self.window = window
        self._cache: OrderedDict = OrderedDict()
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._focus = 0
        self._closed = False
        self._failed = set()
        self._done = False
        self.hits = self.misses = 0
        self._thread = None
        if prerender:
            self._thread = threading.Thread(target=_worker, args=(weakref.ref(self),),
                                            name="mmviz-prerender", daemon=True)
            self._thread.start()
            # A daemon thread killed mid-render at interpreter exit aborts the process
            # ("terminate called without an active exception"): stop it first.
            atexit.register(_stop_at_exit, weakref.ref(self))

    # --- cache -----------------------------------------------------------------------------
    def cached(self, i):
        with self._lock:
            f = self._cache.get(i)
            if f is not None:
                self._cache.move_to_end(i)
            return f

    def _put(self, frame):
        with self._lock:
            self._cache[frame.index] = frame
            self._cache.move_to_end(frame.index)
            while len(self._cache) > self.maxsize:
                self._cache.popitem(last=False)

    def get(self, i) -> Frame:
        """The frame at i: from the cache, or rendered now on the calling thread."""
        f = self.cached(i)
        if f is not None:
            self.hits += 1
        else:
            self.misses += 1
            f = self.renderer.render(i)
            self._put(f)
        self.focus(i)
        return f

    def __len__(self):
        with self._lock:
            return len(self._cache)

    # --- background ---------------------------------------------------------------------------
    def focus(self, i):
        with self._wake:
            self._focus = i
            self._wake.notify()

    def _next_wanted(self):
        """Uncached frames nearest the cursor, forward first (called with the lock held)."""
        f = self._focus
        limit = self.n if self.n <= self.maxsize else min(self.window, self.maxsize // 2)
        for d in range(limit):
            for j in (f + d, f - d - 1):
                if 0 <= j < self.n and j not in self._cache and j not in self._failed:
                    return j
        return None

    def wait_idle(self, timeout=30.0) -> bool:
        """Block until the background thread has nothing left to render (tests, benchmarks)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self._lock:
                if self._thread is None or self._done or self._next_wanted() is None:
                    return True
            time.sleep(0.01)
        return False

    def close(self):
        with self._wake:
            self._closed = True
            self._wake.notify()


def _stop_at_exit(ref):
    store = ref()
    if store is not None and store._thread is not None:
        store.close()
        store._thread.join(timeout=10)


def _worker(ref):
    while True:
        store = ref()
        if store is None:
            return
        with store._wake:
            if store._closed:
                return
            j = store._next_wanted()
            if j is None:
                if len(store._cache) + len(store._failed) >= store.n:
                    store._done = True
                    return             # everything is rendered (and nothing is evicted)
                store._wake.wait(timeout=1.0)
        if j is None:
            del store                  # let an abandoned stepper be collected while idle
            continue
        renderer = store.renderer
        del store
        try:
            frame = renderer.render(j)
        except Exception:              # never kill the thread; the main thread renders it
            frame = None               # again and its guard shows the error
        store = ref()
        if store is None:
            return
        if frame is None:
            store._failed.add(j)
        else:
            store._put(frame)
        del store
