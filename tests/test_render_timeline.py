"""The lock timeline: intervals from locks_held, lanes, hook bars, unmistakable violations."""

import xml.etree.ElementTree as ET

import pytest

from mmviz.scenarios import record

pytest.importorskip("matplotlib")

from matplotlib.collections import PathCollection, PolyCollection  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402

from mmviz.render.timeline import (EVENTS_LANE, HOOKS_LANE, VIOLATION_COLOUR,  # noqa: E402
                                   axes_pixel_box, hook_spans, lanes, lock_intervals,
                                   timeline_figure, timeline_png, timeline_svg)


@pytest.fixture(scope="module")
def double_unlock():
    return record("mapped-fail-hidden", kernel="v3")


@pytest.fixture(scope="module")
def deadlock():
    return record("action-fail-hidden", kernel="baseline")


def held_at(intervals, name, seq):
    return any(iv.lock == name and iv.start <= seq and (iv.end is None or seq < iv.end)
               for iv in intervals)


@pytest.mark.parametrize("name,kernel", [("mapped-fail-hidden", "v3"), ("fixed-replace", "v4"),
                                         ("action-fail-hidden", "baseline")])
def test_intervals_reproduce_locks_held_at_every_event(name, kernel):
    t = record(name, kernel=kernel)
    ivs = lock_intervals(t)
    names = {n for e in t.events for n in e.snapshot.locks_held}
    for e in t.events:
        for n in names:
            assert held_at(ivs, n, e.seq) == (n in e.snapshot.locks_held), (e.seq, n)


def test_intervals_start_at_lock_events_and_carry_the_mode(double_unlock):
    t = double_unlock
    ivs = lock_intervals(t)
    rmap = [iv for iv in ivs if iv.lock.startswith("i_mmap_rwsem")]
    assert len(rmap) == 2                           # taken, released; taken again by munmap
    for iv in rmap:
        assert t[iv.start].kind == "lock" and t[iv.start].data["lock"] == iv.lock
        assert t[iv.end].kind == "unlock"
        assert iv.mode == "write"


def test_deadlocked_task_never_releases(deadlock):
    ivs = lock_intervals(deadlock)
    assert ivs and all(iv.end is None for iv in ivs if iv.lock in deadlock.events[-1].snapshot.locks_held)


def test_lanes_are_locks_in_lock_order_then_hooks_then_errors(double_unlock):
    ls = lanes(double_unlock)
    assert ls[0] == "mmap_lock"
    assert ls[1].startswith("i_mmap_rwsem(")
    assert ls[2].startswith("vma_lock(")
    assert ls[-2:] == [HOOKS_LANE, EVENTS_LANE]
    fig = timeline_figure(double_unlock)
    ax = next(a for a in fig.axes if a.get_gid() == "mmviz-timeline-axes")
    assert [t.get_text() for t in ax.get_yticklabels()] == ls


def test_hold_bars_and_hook_bars(double_unlock):
    fig = timeline_figure(double_unlock)
    ax = next(a for a in fig.axes if a.get_gid() == "mmviz-timeline-axes")
    polys = {c.get_gid(): c for c in ax.collections if isinstance(c, PolyCollection)}
    assert len(polys["mmviz-lock-mmap_lock"].get_paths()) == 1
    assert len(polys["mmviz-lock-i_mmap_rwsem"].get_paths()) == 2
    assert len(polys["mmviz-lock-vma_lock"].get_paths()) == 1
    hooks = hook_spans(double_unlock)
    assert [h[0] for h in hooks] == ["f_op->mmap_prepare", "vm_ops->mapped"]
    assert hooks[1][3] == "-ENOMEM"
    assert len(polys["mmviz-hooks"].get_paths()) == 2
    # the mmap_lock bar spans exactly its hold
    iv = next(i for i in lock_intervals(double_unlock) if i.lock == "mmap_lock")
    xs = polys["mmviz-lock-mmap_lock"].get_paths()[0].vertices[:, 0]
    assert (xs.min(), xs.max()) == (iv.start, iv.end)


def _violation_artists(fig):
    ax = next(a for a in fig.axes if a.get_gid() == "mmviz-timeline-axes")
    marks = [c for c in ax.collections if isinstance(c, PathCollection)
             and len(c.get_facecolor()) and to_hex(c.get_facecolor()[0]) == VIOLATION_COLOUR.lower()]
    lines = [ln for ln in ax.get_lines() if to_hex(ln.get_color()) == VIOLATION_COLOUR.lower()]
    notes = [t.get_text() for t in ax.texts]
    return ax, marks, lines, notes


def test_double_unlock_is_unmistakable(double_unlock):
    v = double_unlock.violations[0]
    ax, marks, lines, notes = _violation_artists(timeline_figure(double_unlock))
    assert marks, "a big red marker"
    assert marks[0].get_sizes()[0] >= 200
    assert tuple(marks[0].get_offsets()[0]) == (v.seq, lanes(double_unlock).index(v.lock))
    assert lines and lines[0].get_xdata()[0] == v.seq         # a red line through every lane
    assert any("DOUBLE UNLOCK" in n and v.lock in n and str(v.seq) in n for n in notes), notes


def test_deadlock_is_unmistakable(deadlock):
    ax, marks, lines, notes = _violation_artists(timeline_figure(deadlock))
    assert marks and lines
    assert any(n.startswith("DEADLOCK") for n in notes)
    assert "never released" in notes


def test_clean_trace_has_no_red():
    t = record("file-prepare")
    ax, marks, lines, notes = _violation_artists(timeline_figure(t))
    assert not marks and not lines


def test_cursor_line(double_unlock):
    ax = next(a for a in timeline_figure(double_unlock, cursor=40).axes
              if a.get_gid() == "mmviz-timeline-axes")
    assert any(to_hex(ln.get_color()) == "#000000" and ln.get_xdata()[0] == 40 for ln in ax.get_lines())
    ax0 = next(a for a in timeline_figure(double_unlock).axes if a.get_gid() == "mmviz-timeline-axes")
    assert not any(to_hex(ln.get_color()) == "#000000" for ln in ax0.get_lines())


def test_precomputed_intervals_are_used(double_unlock):
    ivs = lock_intervals(double_unlock)
    fig = timeline_figure(double_unlock, intervals=ivs[:1])
    ax = next(a for a in fig.axes if a.get_gid() == "mmviz-timeline-axes")
    gids = {c.get_gid() for c in ax.collections}
    assert "mmviz-lock-mmap_lock" in gids and "mmviz-lock-vma_lock" not in gids


def test_outputs_and_pixel_box(double_unlock):
    assert timeline_png(double_unlock).startswith(b"\x89PNG")
    root = ET.fromstring(timeline_svg(double_unlock, cursor=3).encode())
    assert root.tag.endswith("svg")
    fig = timeline_figure(double_unlock)
    box = axes_pixel_box(fig)
    assert box["width"] == pytest.approx(900) and box["height"] >= 300
    assert 0 < box["left"] < box["right"] < box["width"]
    assert 0 < box["top"] < box["bottom"] < box["height"]
    assert (box["xmin"], box["xmax"]) == (-0.5, len(double_unlock) - 0.5)
