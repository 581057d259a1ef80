"""Widgets give their memory back: a closed view is collected, its threads are gone, and
creating and closing views over and over does not grow the process.

Before: `Stepper.close()` closed only the outer box; its child widgets stayed open in
ipywidgets' registry and their callbacks held the Stepper (10 created-and-closed Steppers
grew RSS from 94 to 221 MB), and every pre-render thread lived for ever.
"""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import threading
import time
import weakref

import pytest

pytest.importorskip("ipywidgets")
pytest.importorskip("matplotlib")

from mmviz.scenarios import record  # noqa: E402


def _prerender_threads():
    return [t for t in threading.enumerate() if t.name == "mmviz-prerender" and t.is_alive()]


def _collected(ref, timeout=5.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        gc.collect()
        if ref() is None:
            return True
        time.sleep(0.05)
    return False


def _open_widgets():
    from ipywidgets.widgets.widget import _instances     # every open widget, by model id
    return len(_instances)


@pytest.fixture(scope="module")
def v3():
    return record("mapped-fail-hidden", kernel="v3")


def test_a_closed_stepper_is_collected_and_its_thread_is_gone(v3):
    from mmviz.widgets import Stepper
    before = _open_widgets()
    s = Stepper(v3, prerender=True)
    s.index = 10
    assert s.frames.thread_alive or len(s.frames) > 1       # the thread started
    s.close()
    assert not s.frames.thread_alive                        # close() stopped it
    assert _open_widgets() == before                        # every child widget closed
    ref = weakref.ref(s)
    del s
    assert _collected(ref), "a closed Stepper is still referenced"
    assert _prerender_threads() == []


def test_an_idle_prerender_thread_exits_without_close(v3):
    from mmviz.widgets import Stepper
    s = Stepper(v3, prerender=True)
    assert s.frames.wait_idle(120)
    end = time.monotonic() + 5
    while s.frames.thread_alive and time.monotonic() < end:
        time.sleep(0.02)
    assert not s.frames.thread_alive                        # nothing to do: it exited
    assert len(s.frames) == len(v3.events)
    s.index = 40                                            # cached: no new thread needed
    assert not s.frames.thread_alive
    s.close()


def test_the_thread_never_holds_the_widget(v3):
    """A Stepper dropped without close() while its thread works is still collectable once
    its widgets are closed: the thread holds the frame store weakly and never the widget."""
    from mmviz.widgets import Stepper
    s = Stepper(v3, prerender=True)
    ref = weakref.ref(s)
    store = weakref.ref(s.frames)
    s.close()
    del s
    assert _collected(ref) and _collected(store)


@pytest.mark.parametrize("make", ["compare", "predict", "builder"])
def test_compare_predict_and_builder_give_memory_back(make, v3):
    from mmviz.widgets import Compare, Predict, ScenarioBuilder
    before = _open_widgets()
    if make == "compare":
        w = Compare(v3, record("mapped-fail-hidden", kernel="v4"), prerender=True)
        w.index = 20
    elif make == "predict":
        w = Predict(v3, prerender=True)
    else:
        w = ScenarioBuilder()
        w.run()
        w.run()                                             # the old stepper is closed
    w.close()
    assert _open_widgets() == before
    ref = weakref.ref(w)
    del w
    assert _collected(ref)
    assert _prerender_threads() == []


RSS_SCRIPT = r"""
import gc, json, sys, threading, time
def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20
from mmviz.scenarios import record
from mmviz.widgets import Stepper
t = record("mapped-fail-hidden", kernel="v3")
def one():
    s = Stepper(t, prerender=True)
    for i in range(0, len(t.events), 5):
        s.index = i
    s.frames.wait_idle(60)
    s.close()
for _ in range(3):                    # warm-up: imports, font and glyph caches, source index
    one()
gc.collect(); time.sleep(0.5)
start = rss()
for _ in range(20):
    one()
gc.collect(); time.sleep(1.0); gc.collect()
alive = [th.name for th in threading.enumerate() if th.name == "mmviz-prerender"]
print(json.dumps({"start": start, "end": rss(), "threads": alive}))
"""


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc/self/statm")
def test_rss_of_20_created_and_closed_steppers_stays_bounded():
    out = subprocess.run([sys.executable, "-c", RSS_SCRIPT], capture_output=True, text=True,
                         timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    res = json.loads(out.stdout.strip().splitlines()[-1])
    growth = res["end"] - res["start"]
    assert growth < 30, f"RSS grew {growth:.0f} MB over 20 closed Steppers ({res})"
    assert res["threads"] == []
