"""A view's frames: an LRU cache over a frame builder, and a background thread that builds
the frames around the cursor before the reader gets there.

`renderer` is anything with `frame(i)` (a `mmviz.render.frame.FrameBuilder`, or the Compare
widget's row builder) — the store only caches and schedules; it draws nothing. The thread
only produces frames: widgets are updated by the caller, on the kernel's main thread
(ipywidgets is not thread-safe).

The thread gives memory back: it holds the store weakly and never sees a widget, it exits
as soon as it has nothing to do (a new one starts when the cursor moves to frames not built
yet), and `close()` stops it and empties the cache.
"""

from __future__ import annotations

import atexit
import threading
import time
import weakref
from collections import OrderedDict

_LIVE = weakref.WeakSet()          # stores with a thread, stopped at interpreter exit


class FrameStore:
    """An LRU cache of frames, filled on demand and by a background thread near the cursor."""

    def __init__(self, renderer, n: int | None = None, maxsize: int = 512,
                 prerender: bool = True, window: int = 64):
        self.renderer = renderer
        self.n = max(len(renderer.trace.events) if n is None else n, 1)
        self.maxsize = max(maxsize, 2)
        self.window = window
        self.prerender = prerender
        self._cache: OrderedDict = OrderedDict()
        self._lock = threading.Lock()
        self._focus = 0
        self._closed = False
        self._failed = set()
        self._thread = None
        self.hits = self.misses = 0
        self._wake_thread()

    # --- cache -----------------------------------------------------------------------------
    def cached(self, i):
        with self._lock:
            f = self._cache.get(i)
            if f is not None:
                self._cache.move_to_end(i)
            return f

    def _put(self, i, frame):
        with self._lock:
            if self._closed:
                return
            self._cache[i] = frame
            self._cache.move_to_end(i)
            while len(self._cache) > self.maxsize:
                self._cache.popitem(last=False)

    def get(self, i):
        """The frame at i: from the cache, or built now on the calling thread."""
        f = self.cached(i)
        if f is not None:
            self.hits += 1
        else:
            self.misses += 1
            f = self.renderer.frame(i)
            self._put(i, f)
        self.focus(i)
        return f

    def __len__(self):
        with self._lock:
            return len(self._cache)

    # --- background ---------------------------------------------------------------------------
    def focus(self, i):
        with self._lock:
            self._focus = i
        self._wake_thread()

    def _next_wanted(self):
        """Frames not built yet nearest the cursor, forward first (call with the lock held)."""
        f = self._focus
        limit = self.n if self.n <= self.maxsize else min(self.window, self.maxsize // 2)
        for d in range(limit):
            for j in (f + d, f - d - 1):
                if 0 <= j < self.n and j not in self._cache and j not in self._failed:
                    return j
        return None

    def _wake_thread(self):
        """Start a worker if there is work and none is running (an idle worker has exited)."""
        if not self.prerender:
            return
        with self._lock:
            if self._closed or self._thread is not None or self._next_wanted() is None:
                return
            self._thread = threading.Thread(target=_worker, args=(weakref.ref(self),),
                                            name="mmviz-prerender", daemon=True)
            _LIVE.add(self)
            self._thread.start()

    @property
    def thread_alive(self) -> bool:
        t = self._thread
        return t is not None and t.is_alive()

    def wait_idle(self, timeout=30.0) -> bool:
        """Block until the background thread has nothing left to build (tests, benchmarks)."""
        if not self.prerender:
            return True
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self._lock:
                if self._closed or (self._thread is None and self._next_wanted() is None):
                    return True
            time.sleep(0.01)
        return False

    def close(self, join: float = 5.0):
        """Stop the thread (waiting up to `join` seconds) and drop every cached frame."""
        with self._lock:
            self._closed = True
            self._cache.clear()
            t = self._thread
        if t is not None and t is not threading.current_thread():
            t.join(timeout=join)


def _stop_all():
    # A daemon thread killed mid-render at interpreter exit aborts the process ("terminate
    # called without an active exception"): stop every worker first.
    for store in list(_LIVE):
        store.close(join=10)


atexit.register(_stop_all)


def _worker(ref):
    """Build frames near the cursor until there is nothing to do, then exit. Holds the store
    only between frames, and only weakly while idle: never the widget."""
    while True:
        store = ref()
        if store is None:
            return
        with store._lock:
            j = None if store._closed else store._next_wanted()
            if j is None:                  # idle: exit (focus() starts a new worker)
                if store._thread is threading.current_thread():
                    store._thread = None
                return
        renderer = store.renderer
        del store
        try:
            frame = renderer.frame(j)
        except Exception:              # never kill the view; the main thread builds it again
            frame = None               # and its guard shows the error
        del renderer
        store = ref()
        if store is None:
            return
        if frame is None:
            with store._lock:
                store._failed.add(j)
        else:
            store._put(j, frame)
        del store, frame
