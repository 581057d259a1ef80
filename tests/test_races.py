"""Two tasks: the scheduler, waiting and its wake-ups, the races, the explorer.

The cases follow spec kernel-rmap-and-tasks §5.8 (C1-C8) where the model can express them.
"""

import pytest

import mmviz
from mmviz import MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, MAP_SHARED, PROT_READ, PROT_WRITE
from mmviz.model.drivers import DriverSpec
from mmviz.model.errors import TaskHung
from mmviz.model.locking import mmap_read_lock, mmap_read_unlock, mmap_write_lock, mmap_write_unlock
from mmviz.model.variants import KERNELS
from mmviz.render.narration import sentence
from mmviz.scenarios.explore import explore, table
from mmviz.scenarios.race import run_race
from mmviz.scenarios.races import RACES, get_race
from mmviz.trace import Recorder, Trace

A = 0x10000000
P = 4096
RW = PROT_READ | PROT_WRITE
ANON = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED


def _waits(t, pid=None):
    return [e for e in t.events if e.kind == "wait" and (pid is None or e.task == pid)]


# --- the races of the catalog -------------------------------------------------------------

EXPECTED = {   # outcome, violation kinds, task results (the same under every variant...)
    "race-second-mmap": ("ok", [], {1: A, 2: A + 16 * P}),
    "race-fault-waits": ("ok", [], {1: A, 2: 0}),
    "race-hugetlbfs-truncate": ("ok", [], {1: A, 2: 0}),
    "race-hugetlbfs-no-hide": ("ok", ["half-built"], {1: A, 2: 0}),
    "race-lock-order-deadlock": ("deadlock", ["lock-order", "deadlock"], {1: None, 2: None}),
}
# ... except mainline, where hugetlbfs is back on .mmap: the lock exists before the link.
EXPECTED_MAINLINE = {"race-hugetlbfs-no-hide": ("ok", [], {1: A, 2: 0})}


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_race_outcomes(name, kernel):
    t = run_race(get_race(name), kernel, validate=True)
    outcome, kinds, results = (EXPECTED_MAINLINE if kernel == "mainline" else {}).get(
        name, EXPECTED[name])
    assert t.result.outcome == outcome
    assert [v.kind for v in t.violations] == kinds
    assert dict(t.task_results) == results
    assert [pid for pid, _, _ in t.tasks] == [1, 2]


def test_the_second_mmap_waits_for_mmap_lock_and_runs_after_the_first():
    t = run_race(get_race("race-second-mmap"), "v4")
    (w,) = _waits(t, 2)
    assert w.data["lock"] == "mmap_lock" and w.data["holders"] == [1]
    release = next(e for e in t.events if e.task == 1 and e.kind == "unlock"
                   and e.data.get("lock") == "mmap_lock")
    assert all(e.seq > release.seq for e in t.events if e.task == 2 and e.kind == "lock")


def test_a_fault_on_a_write_locked_vma_falls_back_and_sees_the_finished_vma():
    t = run_race(get_race("race-fault-waits"), "v4")
    refused = next(e for e in t.events if e.what == "vma_read_refused")
    assert refused.task == 2 and refused.data["why"] == "write-locked"
    (w,) = _waits(t, 2)
    assert w.data["lock"] == "mmap_lock"
    mapped = next(e for e in t.events if e.kind == "hook" and e.fn == "vm_ops->mapped")
    fault = next(e for e in t.events if e.task == 2 and e.fn == "handle_mm_fault")
    assert mapped.seq < fault.seq                   # B faults on the finished VMA


def test_truncation_waits_for_the_hidden_hugetlbfs_vma_and_finds_its_lock():
    t = run_race(get_race("race-hugetlbfs-truncate"), "v4")
    (w,) = _waits(t, 2)
    assert w.data["lock"].startswith("i_mmap_rwsem") and w.data["mode"] == "write"
    hook = next(e for e in t.events if e.kind == "hook" and e.fn == "success_hook")
    unlock = next(e for e in t.events if e.fn == "maybe_rmap_unlock_action" and e.kind == "unlock")
    visit = next(e for e in t.events if e.what == "rmap_visit")
    zap = next(e for e in t.events if e.what == "zap_range")
    assert hook.seq < unlock.seq < visit.seq < zap.seq
    assert any(e.kind == "lock" and e.data["lock"].startswith("hugetlb_vma_lock") and e.task == 2
               for e in t.events)


def test_without_the_flag_the_walker_meets_a_vma_without_its_lock():
    t = run_race(get_race("race-hugetlbfs-no-hide"), "v4")
    half = t.events[t.violations[0].seq]
    skip = next(e for e in t.events if e.what == "hugetlb_skip_no_lock")
    hook = next(e for e in t.events if e.kind == "hook" and e.fn == "success_hook")
    assert half.task == 2 and half.seq < skip.seq < hook.seq


def test_mainline_has_no_hugetlbfs_race_its_mmap_allocates_the_lock_first():
    t = run_race(get_race("race-hugetlbfs-no-hide"), "mainline")
    assert not t.violations and not any(e.what == "hugetlb_skip_no_lock" for e in t.events)
    assert not explore(get_race("race-hugetlbfs-no-hide"), "mainline").failing


def test_the_cross_task_deadlock_names_who_waits_for_whom():
    t = run_race(get_race("race-lock-order-deadlock"), "v4")
    v = t.violations[-1]
    assert v.kind == "deadlock"
    e = t.events[v.seq]
    assert e.data["cross"] and [x[0] for x in e.data["chain"]] in ([1, 2], [2, 1])
    text = sentence(e, t.kernel)
    assert "A[1] waits for i_mmap_rwsem" in text and "B[2] waits for mmap_lock" in text
    assert t.final.tasks and all(x.state == "hung" for x in t.final.tasks)


def test_the_lock_order_rule_is_reported_even_when_nothing_deadlocks():
    """C7: B's request of mmap_lock under i_mmap_rwsem is flagged in the serial run too."""
    t = run_race(get_race("race-lock-order-deadlock"), "v4", schedule=[1] * 200)
    assert t.result.outcome == "ok"
    assert [v.kind for v in t.violations] == ["lock-order"]


@pytest.mark.parametrize("name", [r.name for r in RACES])
def test_a_schedule_replays_its_trace_byte_for_byte(name):
    t = run_race(get_race(name), "v3")
    again = run_race(get_race(name), "v3", schedule=t.schedule)
    assert again.to_json() == t.to_json()
    back = Trace.from_json(t.to_json())
    assert back == t and back.schedule == t.schedule and back.tasks == t.tasks


# --- the explorer -------------------------------------------------------------------------

@pytest.mark.parametrize("kernel", ["baseline", "v4"])
def test_the_explorer_finds_the_race_without_the_hide_flag_and_none_with_it(kernel):
    without = explore(get_race("race-hugetlbfs-no-hide"), kernel)
    with_flag = explore(get_race("race-hugetlbfs-truncate"), kernel)
    assert without.failing and {r.verdict for r in without.failing} == {"violation"}
    assert all("half-built" in r.violations for r in without.failing)
    assert not with_flag.failing
    s = without.shortest_failing
    replay = run_race(get_race("race-hugetlbfs-no-hide"), kernel, schedule=s.schedule)
    assert [v.kind for v in replay.violations][:1] == ["half-built"]


def test_in_v3_the_hide_flag_leaves_a_window_before_the_success_hook():
    """v3's finish drops the rmap lock before success_hook runs (the seed's deleted lines), so
    truncation can still meet the VMA before its hugetlb lock exists; v4 unlocks after."""
    ex = explore(get_race("race-hugetlbfs-truncate"), "v3")
    assert ex.failing and all(set(r.violations) == {"half-built"} for r in ex.failing)
    first = run_race(get_race("race-hugetlbfs-truncate"), "v3",
                     schedule=ex.shortest_failing.schedule)
    unlock = next(e for e in first.events if e.kind == "unlock" and e.fn == "mmap_action_finish")
    hook = next(e for e in first.events if e.kind == "hook" and e.fn == "success_hook")
    half = first.events[first.violations[0].seq]
    assert unlock.seq < half.seq < hook.seq


def test_the_explorer_reports_deadlocks_and_its_table():
    ex = explore(get_race("race-lock-order-deadlock"), "v4")
    assert ex.counts()["deadlock"] > 0 and ex.serial.verdict == "violation"
    text = table(ex)
    assert "deadlock" in text and "shortest failing schedule" in text
    assert text.splitlines()[0].startswith("race-lock-order-deadlock under v4:")


# --- the cases of spec §5.8, built directly -----------------------------------------------

def _two_threads(kernel="v4"):
    w = mmviz.World(kernel)
    w.mmap(A, 4 * P, RW, ANON)                       # X
    w.mmap(A + 16 * P, 2 * P, RW, ANON)              # Y (will get an anon_vma)
    w.touch(A + 16 * P)
    w.mmap(A + 32 * P, 2 * P, RW, ANON)              # Z (no anon_vma)
    return w, w.current, w.new_thread("T2")


def _hold_mmap_write(w):
    """T1's program: hold mmap_lock for write across a few events (an mlock of X, say)."""
    mmap_write_lock(w.mm)
    for _ in range(3):
        w.emit("note", "populated")
    mmap_write_unlock(w.mm)
    return 0


@pytest.mark.parametrize("probe, waits", [
    (lambda w: w.touch(A + 16 * P + P), False),      # C1a: Y has an anon_vma
    (lambda w: w.read(A + 32 * P), False),           # C1b: read fault on Z
    (lambda w: w.touch(A + 32 * P), True),           # C1c: write fault on Z needs mmap_lock
    (lambda w: w.mprotect(A + 32 * P, P, PROT_READ), True),   # C2c: mprotect needs W
])
def test_c1_c2_which_faults_wait_for_a_writer(probe, waits):
    w, t1, t2 = _two_threads()
    rec = Recorder(w)
    results, _ = w.run_tasks({t1: _hold_mmap_write, t2: probe}, schedule=[1, 1, 2])
    t = rec.finish("c1", "", "", 0)
    assert bool(_waits(t, 2)) is waits
    assert results[2] == 0


def test_c2_the_maps_reader_waits_only_at_a_write_locked_vma():
    w = mmviz.World()
    w.mmap(A, 4 * P, RW, ANON)
    t1, t2 = w.current, w.new_thread("reader")

    def t1_prog(w):
        return w.mprotect(A + 40 * P, P, PROT_READ)     # no VMA there: no VMA is write-locked
    rec = Recorder(w)
    w.run_tasks({t1: t1_prog, t2: lambda w: len(w.read_proc_maps())}, schedule=[1, 1, 2])
    assert not _waits(rec.finish("c2", "", "", 0), 2)

    w2 = mmviz.World()
    w2.mmap(A, 4 * P, RW, ANON)
    t1, t2 = w2.current, w2.new_thread("reader")
    rec = Recorder(w2)
    res, _ = w2.run_tasks({t1: lambda w: w.mprotect(A, P, PROT_READ),
                           t2: lambda w: w.read_proc_maps()},
                          schedule=lambda i, pid, kind, what: 2 if what == "vma_write_lock" else None)
    t = rec.finish("c2", "", "", 0)
    (wt,) = _waits(t, 2)
    assert wt.data["lock"] == "mmap_lock"                # it reached the write-locked VMA
    assert res[2].count("\n") == 2                       # and printed the split VMA


def test_c3_mmap_waits_in_vma_link_file_for_a_truncation_walk():
    w = mmviz.World()
    fd = w.open_driver(DriverSpec("regular", name="f"))
    w.mmap(A, P, RW, MAP_SHARED | MAP_FIXED, fd, 0)
    t1 = w.new_process("trunc")
    t2 = w.current
    rec = Recorder(w)
    w.run_tasks({t1: lambda w: w.ftruncate(fd, 0),
                 t2: lambda w: w.mmap(A + 8 * P, P, RW, MAP_SHARED | MAP_FIXED, fd, 0)},
                schedule=lambda i, pid, kind, what: 2 if pid == 1 and what == "vma_stored" else (
                    1 if pid == 2 and what == "rmap_visit" else None))
    t = rec.finish("c3", "", "", 0)
    waits = _waits(t, 1)
    assert waits and all(w.fn == "vma_link_file" and w.data["mode"] == "write" for w in waits)
    assert not _waits(t, 2)          # the truncation never waits for the mapper's mmap_lock


def test_c5_a_reader_queued_behind_a_writer_deadlocks_on_its_second_read():
    """C5: rwsems prefer writers; T1 holds mmap_lock for read, T2 queues for write, T1 asks
    for read again (a kernel-mode fault under mmap_lock): no one can go on."""
    w = mmviz.World()
    t1, t2 = w.current, w.new_thread("writer")

    def t1_prog(w):
        mmap_read_lock(w.mm)
        w.emit("note", "populated")
        mmap_read_lock(w.mm)              # the kernel-mode fault's mmap_read_lock
        mmap_read_unlock(w.mm)
        mmap_read_unlock(w.mm)
        return 0
    rec = Recorder(w)
    w.run_tasks({t1: t1_prog, t2: lambda w: w.mprotect(A, P, PROT_READ)},
                schedule=lambda i, pid, kind, what: 2 if what == "populated" else None)
    t = rec.finish("c5", "", "", 0)
    assert [v.kind for v in t.violations] == ["recursive-lock", "deadlock"]
    assert w.halted


def test_without_a_scheduler_contention_is_a_deadlock_not_a_hang():
    w = mmviz.World()
    t2 = w.new_thread("other")
    mm = w.mm
    w.current = t2
    mmap_write_lock(mm)
    w.current = w.tasks[0]
    with pytest.raises(TaskHung):
        w.munmap(A, P)
    assert w.violations[-1]["kind"] == "deadlock"


def test_bad_task_input_is_refused():
    w = mmviz.World()
    with pytest.raises(mmviz.InputError):
        w.new_thread("")
    with pytest.raises(mmviz.InputError):
        w.new_process("x" * 40)
