"""Views of a race of two tasks: lane groups per task, waits with their holders, the notes
that say why the CPU passed to another task. Expected values were read off the traces by
hand (docs/races.md tells each race)."""

import pytest

from mmviz.render.narration import switch_note, tasks_line
from mmviz.render.narration_html import narration_html
from mmviz.scenarios import record
from mmviz.trace.query import switches, task_intervals

pytest.importorskip("matplotlib")

from matplotlib.collections import PolyCollection  # noqa: E402

from mmviz.render.timeline import lanes, timeline_figure, timeline_picture  # noqa: E402


@pytest.fixture(scope="module")
def truncate_v3():
    return record("race-hugetlbfs-truncate", kernel="v3")


@pytest.fixture(scope="module")
def deadlock():
    return record("race-lock-order-deadlock", kernel="v4")


def _at(ivs, pid, what, lock=None):
    return [iv for iv in ivs if iv.pid == pid and iv.what == what and iv.lock == lock]


def test_intervals_agree_with_every_snapshot(truncate_v3):
    t = truncate_v3
    ivs = task_intervals(t)
    for e in t.events:
        for tv in e.snapshot.tasks:
            for iv in ivs:
                inside = iv.start <= e.seq and (iv.end is None or e.seq < iv.end)
                if iv.pid != tv.pid or not inside:
                    continue
                if iv.what == "hold":
                    assert iv.lock in tv.locks, (e.seq, iv)
                elif iv.what == "wait":
                    assert tv.waiting_for == iv.lock, (e.seq, iv)
                else:
                    assert e.task == tv.pid and tv.state == "running", (e.seq, iv)


def test_the_truncation_waits_for_the_rmap_lock_the_mmap_holds(truncate_v3):
    ivs = task_intervals(truncate_v3)
    rmap = "i_mmap_rwsem(/dev/hugepages/huge)"
    [wait] = _at(ivs, 2, "wait", rmap)
    [held] = _at(ivs, 1, "hold", rmap)
    assert wait.holders == (1,)
    assert held.start < wait.start < held.end <= wait.end  # B waits while A holds it...
    [b_holds] = _at(ivs, 2, "hold", rmap)
    assert b_holds.start == wait.end                        # ...and gets it when A lets go
    assert held.mode == b_holds.mode == "write"


def test_run_stretches_are_the_switches(truncate_v3):
    t = truncate_v3
    runs = sorted((iv.start, iv.pid) for iv in task_intervals(t) if iv.what == "run")
    assert [s for s, _ in runs[1:]] == [seq for seq, _, _ in switches(t)]
    assert all(a != b for _, a, b in switches(t))


def test_lane_groups_per_task(truncate_v3):
    names = lanes(truncate_v3)
    assert names[0] == "A[1] runs"
    b = names.index("B[2] runs")
    assert "A[1]: mmap_lock" in names[:b]
    assert "B[2]: i_mmap_rwsem(/dev/hugepages/huge)" in names[b:]
    assert "B[2]: mmap_lock" not in names     # truncate never takes the mmap_lock


def test_the_wait_is_drawn_dotted_with_an_arrow_to_the_holder(truncate_v3):
    fig = timeline_figure(truncate_v3)
    ax = fig.axes[0]
    waits = [c for c in ax.collections if isinstance(c, PolyCollection)
             and (c.get_gid() or "").startswith("mmviz-wait-")]
    assert [c.get_gid() for c in waits] == ["mmviz-wait-i_mmap_rwsem"]
    assert waits[0].get_hatch() == ".."
    ys = {tick.get_text(): y for y, tick in enumerate(ax.get_yticklabels())}
    arrows = [a for a in ax.texts if getattr(a, "arrow_patch", None) is not None
              and a.get_text() == ""]
    heads = {(round(a.xy[1]), round(a.xyann[1])) for a in arrows}
    wait_y = ys["B[2]: i_mmap_rwsem(/dev/hugepages/huge)"]
    hold_y = ys["A[1]: i_mmap_rwsem(/dev/hugepages/huge)"]
    assert (hold_y, wait_y) in heads
    assert any(t.get_text() == "waits for A[1]" for t in ax.texts)


def test_a_deadlock_says_the_wait_is_never_granted(deadlock):
    ax = timeline_figure(deadlock).axes[0]
    texts = [t.get_text() for t in ax.texts]
    assert "waits for A[1]: never granted" in texts
    runs = [c for c in ax.collections if c.get_gid() == "mmviz-task-runs"]
    assert len(runs) == 1


def test_alt_text_tells_holds_and_waits(truncate_v3):
    alt = timeline_picture(truncate_v3).alt
    assert "B[2] waits for i_mmap_rwsem(/dev/hugepages/huge) from event" in alt
    assert "held by A[1]" in alt


def test_switch_notes(truncate_v3, deadlock):
    notes = {i: switch_note(truncate_v3, i) for i in range(len(truncate_v3.events))}
    said = {i: n for i, n in notes.items() if n}
    assert set(said) == {seq for seq, _, _ in switches(truncate_v3)
                         if truncate_v3.events[seq].what != "after_tasks"}
    first = said[min(said)]
    assert first.startswith("B[2] runs now: the schedule preempts A[1] here, holding mmap_lock")
    assert any(n == "A[1] runs now: B[2] sleeps, waiting for i_mmap_rwsem(/dev/hugepages/huge)"
                    " (held by A[1])" for n in said.values())
    assert any(n == "B[2] runs now: A[1] has returned from its call" for n in said.values())
    last = deadlock.events[-1]
    assert tasks_line(last.snapshot, deadlock) == (
        "A[1] waiting; holds mmap_lock, vma_lock(vma#1), vma_lock(vma#2); waits for "
        "i_mmap_rwsem(/mnt/data) · B[2] waiting; holds i_mmap_rwsem(/mnt/data); waits for "
        "mmap_lock")
    assert tasks_line(deadlock.final, deadlock) == (
        "A[1] hung; holds mmap_lock; waits for i_mmap_rwsem(/mnt/data) · B[2] hung; holds "
        "i_mmap_rwsem(/mnt/data); waits for mmap_lock")


def test_narration_shows_the_switch_and_each_task(truncate_v3):
    seq = switches(truncate_v3)[0][0]
    html = narration_html(truncate_v3, seq)
    assert "mmviz-switch" in html and "preempts A[1]" in html
    assert "mmviz-tasks" in html and "B[2] running" in html
    assert "mmviz-switch" not in narration_html(truncate_v3, seq + 1)


def test_one_task_trace_has_no_task_lanes():
    t = record("hugetlbfs-prepare", kernel="v4")
    assert not task_intervals(t) and not switches(t)
    assert lanes(t)[0] == "mmap_lock"
    assert switch_note(t, 5) == ""


def test_task_marks_name_the_vma_each_task_works_on(truncate_v3):
    from mmviz.trace.query import task_marks
    t = truncate_v3
    marks = [task_marks(t, i) for i in range(len(t.events))]
    # the mmap write-locks vma#1 from vma_start_write until it drops mmap_lock
    locked = [i for i, m in enumerate(marks) if (1, 1, "write") in m]
    assert locked and all("vma_lock(vma#1)" in t.events[i].snapshot.tasks[0].locks for i in locked)
    # the truncation's walk reaches vma#1 and zaps it, each at its own event
    [walk] = [i for i, m in enumerate(marks) if (1, 2, "walk") in m]
    [zap] = [i for i, m in enumerate(marks) if (1, 2, "zap") in m]
    assert t.events[walk].what == "rmap_visit" and t.events[zap].what == "zap_range"
    assert walk < zap and walk > max(locked)  # B walks only once A let go of the VMA


def test_badges_are_part_of_the_picture_and_its_words(truncate_v3):
    from mmviz.render.frame import FrameBuilder
    from mmviz.trace.query import task_marks
    t = truncate_v3
    fb = FrameBuilder(t, timeline=False)
    i = next(i for i in range(len(t.events)) if (1, 1, "write") in task_marks(t, i))
    f = fb.frame(i)
    assert "Tasks at work: vma#1: A[1] write-locks." in f.layout_alt
    # the same VMAs without the badge are another picture
    assert fb.layout_key(t.events[i].snapshot, f.changed) != f.layout_key
    assert fb.layout_png(fb.layout_key(t.events[i].snapshot, f.changed)) != f.layout_png


def test_compare_two_kernels_of_a_race_shares_the_task_lanes(truncate_v3):
    """Compare draws both runs of a race on one aligned axis: each task's lane group once,
    both runs' waits (dotted, B dashed) in it, and builds as a widget."""
    from mmviz.render.timeline import compare_timeline_figure
    from mmviz.trace.align import align
    v4 = record("race-hugetlbfs-truncate", kernel="v4")
    rows = align(truncate_v3, v4)
    fig = compare_timeline_figure(truncate_v3, v4, rows)
    ax = fig.axes[0]
    names = [t.get_text().replace("\n", "") for t in ax.get_yticklabels()]
    assert names[0] == "A[1] runs" and names.count("B[2] runs") == 1
    assert "B[2]: i_mmap_rwsem(/dev/hugepages/huge)" in names
    waits = [c for c in ax.collections if (c.get_gid() or "").startswith("mmviz-wait-")]
    assert len(waits) == 2                            # one per run
    assert {getattr(c, "_mmviz_side", None) for c in waits} == {"A", "B"}
    runs = [c for c in ax.collections if c.get_gid() == "mmviz-task-runs"]
    assert len(runs) == 2
    pytest.importorskip("ipywidgets")
    from mmviz.widgets import Compare
    c = Compare(truncate_v3, v4)
    assert c is not None
