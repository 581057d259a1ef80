"""The mmap_prepare path: the variant differences of spec §0.1/§3 asserted as behaviour."""

import pytest

import mmviz
from mmviz.model.drivers import DriverSpec, driver_state
from mmviz.model.errno import Errno
from mmviz.scenarios import Scenario, record, run
from mmviz.scenarios.catalog import A, RW
from mmviz.model.uapi import MAP_FIXED, MAP_PRIVATE, MAP_ANONYMOUS, MAP_SHARED
from mmviz.render.narration import sentence


def say(t, e):
    return sentence(e, t.kernel)

P = 4096


def _i_mmap_locks(locks):
    return [name for name in locks if name.startswith("i_mmap")]


def _hook_events(t, name, phase="enter"):
    return [e for e in t.events if e.kind == "hook" and e.fn == name and e.data.get("phase") == phase]


def test_v3_double_unlock_when_mapped_fails_hidden():
    t = record("mapped-fail-hidden", kernel="v3")
    assert [(v.kind, v.lock) for v in t.violations] == [("unlock-not-held", "i_mmap_rwsem(/mnt/hidden)")]
    assert t.result.ret == -Errno.ENOMEM
    assert not [v for v in t.final.vmas if v.start < A + 4 * P and v.end > A]


def test_v4_mapped_fail_hidden_is_clean():
    t = record("mapped-fail-hidden", kernel="v4")
    assert t.violations == ()
    assert t.result.ret == -Errno.ENOMEM and t.result.errno == "ENOMEM"
    assert t.final.vmas == ()
    unlocks = [e for e in t.events if e.kind == "unlock" and e.data.get("lock", "").startswith("i_mmap")
               and e.fn == "maybe_rmap_unlock_action"]
    assert len(unlocks) == 1


def test_mapped_runs_under_the_rmap_lock_in_v4_but_not_in_v3():
    v4 = record("mapped-fail-hidden", kernel="v4")
    v3 = record("mapped-fail-hidden", kernel="v3")
    assert _i_mmap_locks(_hook_events(v4, "vm_ops->mapped")[0].locks_held)
    assert not _i_mmap_locks(_hook_events(v3, "vm_ops->mapped")[0].locks_held)


def test_baseline_self_deadlocks_when_the_action_fails_hidden():
    t = record("action-fail-hidden", kernel="baseline")
    assert [v.kind for v in t.violations] == ["deadlock"]
    assert t.violations[0].lock.startswith("i_mmap_rwsem")
    assert t.result.outcome == "deadlock" and t.result.ret is None
    # The trace ends at the deadlock: nothing after it but the scenario's closing notes.
    after = [e for e in t.events[t.violations[0].seq + 1:] if e.fn != "user"]
    assert all(e.kind in ("error",) for e in after), after


@pytest.mark.parametrize("kernel", ["v3", "v4", "mainline"])
def test_later_variants_unlock_before_unmapping(kernel):
    t = record("action-fail-hidden", kernel=kernel)
    assert t.violations == ()
    assert t.result.ret == -Errno.ENOMEM
    assert t.final.vmas == ()


@pytest.mark.parametrize("kernel", ["baseline", "v3"])
def test_success_hook_failure_leaves_mapping_in_place_before_v4(kernel):
    t = record("success-hook-fail", kernel=kernel)
    assert t.result.ret == -Errno.EINVAL
    assert [(v.start, v.end) for v in t.final.vmas] == [(A, A + 4 * P)]
    assert any(e.kind == "warn" and "still mapped" in say(t, e) for e in t.events)


def test_success_hook_failure_unmaps_in_v4():
    t = record("success-hook-fail", kernel="v4")
    assert t.result.ret == -Errno.EINVAL
    assert t.final.vmas == ()


def _order_scenario():
    spec = lambda: DriverSpec("regular", name="ordered", hide=True, success_hook=True,
                              fail={"success_hook": -Errno.EIO}, error_hook=-Errno.EAGAIN)
    return Scenario("order", "v4 finish order", "", lambda w: {"fd": w.open_driver(spec())},
                    lambda w, c: w.mmap(A, 2 * P, RW, MAP_SHARED | MAP_FIXED, c["fd"], 0))


def test_v4_finish_order():
    """->mapped, then success_hook, then the rmap unlock, then do_munmap, then error_hook."""
    t = run(_order_scenario(), kernel="v4", validate=True)
    marks = []
    for e in t.events:
        if e.kind == "hook" and e.data.get("phase") == "enter":
            marks.append(e.fn)
        elif e.kind == "unlock" and e.fn == "maybe_rmap_unlock_action":
            marks.append("rmap-unlock")
        elif e.kind == "call" and e.fn == "do_munmap":
            marks.append("do_munmap")
    assert marks == ["f_op->mmap_prepare", "vm_ops->mapped", "success_hook", "rmap-unlock",
                     "do_munmap", "error_hook"]
    assert t.result.ret == -Errno.EAGAIN       # error_hook replaced -EIO
    assert t.violations == () and t.final.vmas == ()


def test_v3_order_differs_rmap_unlock_before_success_hook():
    t = run(_order_scenario(), kernel="v3")
    marks = [e.fn if e.kind == "hook" else "rmap-unlock" for e in t.events
             if (e.kind == "hook" and e.data.get("phase") == "enter")
             or (e.kind == "unlock" and e.data.get("lock", "").startswith("i_mmap"))]
    assert marks[:3] == ["f_op->mmap_prepare", "rmap-unlock", "success_hook"]
    assert t.result.ret == -Errno.EIO             # returned directly, no error_hook
    assert t.final.vmas != ()


@pytest.mark.parametrize("kernel", ["baseline", "v3", "v4", "mainline"])
def test_mapped_never_called_on_merge(kernel):
    t = record("file-merge-skips-mapped", kernel=kernel)
    assert _hook_events(t, "vm_ops->mapped") == []
    assert [(v.start, v.end) for v in t.final.vmas] == [(A, A + 2 * P)]
    assert t.final.map_count == 1


@pytest.mark.parametrize("kernel", ["v3", "v4", "mainline"])
def test_mapped_called_exactly_once_for_a_new_vma(kernel):
    t = record("file-prepare", kernel=kernel)
    assert len(_hook_events(t, "vm_ops->mapped")) == 1


def test_baseline_has_no_mapped_hook():
    assert _hook_events(record("file-prepare", kernel="baseline"), "vm_ops->mapped") == []


@pytest.mark.parametrize("kernel", ["baseline", "v3", "v4", "mainline"])
def test_mapped_not_called_when_the_action_fails(kernel):
    t = record("remap-pfn-fail", kernel=kernel)
    assert _hook_events(t, "vm_ops->mapped") == []
    assert t.result.ret == -Errno.ENOMEM and t.final.vmas == ()


@pytest.mark.parametrize("name", ["remap-pfn", "io-remap", "simple-ioremap", "map-kernel-pages"])
def test_actions_make_the_mapping_special(name):
    t = record(name)
    (v,) = t.final.vmas
    assert v.special
    if name == "map-kernel-pages":
        assert "VM_MIXEDMAP" in v.flags
    else:
        assert {"VM_IO", "VM_PFNMAP", "VM_DONTEXPAND", "VM_DONTDUMP"} <= set(v.flags)


def test_io_and_simple_ioremap_become_remap_pfn_in_prepare():
    for name in ("io-remap", "simple-ioremap"):
        t = record(name)
        types = [e.snapshot.pending_action.type for e in t.events if e.snapshot.pending_action]
        assert types[-1] == "MMAP_REMAP_PFN"
        assert any(ty != "MMAP_REMAP_PFN" for ty in types)


def test_remap_never_merges_with_identical_neighbour():
    def setup(w):
        fd = w.open_driver(DriverSpec("pfn-remap", name="fb"))
        w.mmap(A, P, RW, MAP_SHARED | MAP_FIXED, fd, 0)
        return {"fd": fd}
    s = Scenario("x", "", "", setup, lambda w, c: w.mmap(A + P, P, RW, MAP_SHARED | MAP_FIXED, c["fd"], P))
    t = run(s)
    assert len(t.final.vmas) == 2


def test_compat_path_clears_hide_flag_in_v4_and_takes_no_rmap_lock():
    t = record("compat-stacked", kernel="v4")
    assert t.violations == () and t.result.outcome == "ok"
    assert any(e.fn == "compat_vma_mmap" and "hide flag cleared" in say(t, e) for e in t.events)
    compat = [e for e in t.events if any(f.fn == "compat_vma_mmap" for f in e.snapshot.stack)]
    assert compat and not any(_i_mmap_locks(e.locks_held) for e in compat)


def test_compat_with_lower_mapped_trips_the_legacy_hook_check():
    def setup(w):
        return {"fd": w.open_driver(DriverSpec("stacked", name="ovl", lower=DriverSpec("regular", name="low")))}
    s = Scenario("x", "", "", setup, lambda w, c: w.mmap(A, P, RW, MAP_SHARED | MAP_FIXED, c["fd"], 0))
    t4 = run(s, kernel="v4")
    assert t4.result.ret == -Errno.EINVAL
    assert any(e.kind == "warn" and e.fn == "__vma_check_mmap_hook" for e in t4.events)
    assert run(s, kernel="baseline").result.outcome == "ok"


def test_nommu_remap():
    t = record("nommu-remap", kernel="v4")
    assert t.result.ret == -Errno.EINVAL
    assert sum(e.kind == "warn" for e in t.events) >= 2
    assert t.config["mmu"] is False
    assert record("nommu-remap", kernel="v3").result.outcome == "build-error"


def test_prepare_fail_goes_straight_to_abort_munmap():
    t = record("prepare-fail")
    steps = [e.step for e in t.events if e.step]
    assert steps[-2:] == ["S4", "E2"] and "E1" not in steps and "S7" not in steps


def test_fixed_prepare_fail_leaves_hole_and_flags_the_charge():
    t = record("fixed-prepare-fail-hole")
    assert t.result.ret == -Errno.EINVAL
    assert t.initial.vmas and t.final.vmas == ()
    assert t.initial.map_count == 1 and t.final.map_count == 0
    assert t.final.committed_pages == 3
    assert any(e.kind == "warn" and "commit charge" in say(t, e) for e in t.events)


def test_legacy_mmap_flags_prevent_the_merge():
    t = record("legacy-mmap-no-merge")
    assert len(t.final.vmas) == 2 and "VM_HUGEPAGE" in t.final.vmas[1].flags


def test_map_count_limit():
    t = record("map-count-limit")
    assert t.result.ret == -Errno.ENOMEM
    assert t.initial.map_count == 5 and t.final.map_count == 5


def test_fixed_replace_calls_close_and_frees_the_old_middle():
    t = record("fixed-replace")
    closes = _hook_events(t, "vm_ops->close")
    assert len(closes) == 1
    assert [v.file is None for v in t.final.vmas] == [False, True, False]


@pytest.mark.parametrize("point", ["alloc", "prealloc"])
def test_injected_allocation_failure_unaccounts_and_restores(point):
    w = mmviz.World()
    w.mmap(A, 3 * P, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED)
    w.mmap(A + 4 * P, P, mmviz.PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED)
    before, committed = w.proc_maps(), w.vm_committed
    w.faults.arm(point)
    # A new, unmergeable mapping in a hole needs a VMA: the allocation fails.
    assert w.mmap(A + 8 * P, P, mmviz.PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED) == -Errno.ENOMEM
    assert w.proc_maps() == before and w.vm_committed == committed
    w.validate()


def test_mapped_may_replace_private_data():
    w = mmviz.World()
    fd = w.open_driver(DriverSpec("regular", name="pd"))
    assert w.mmap(A, P, RW, MAP_SHARED | MAP_FIXED, fd, 0) == A
    (vma,) = w.vmas()
    assert vma.vm_private_data == f"pd:mapped@{A:#x}"
    assert driver_state(w, fd).mapped_calls == 1


def test_every_scenario_runs_under_every_variant_with_no_lock_left_held():
    from mmviz.model.variants import KERNELS
    from mmviz.scenarios import names
    for name in names():
        for kernel in KERNELS:
            t = record(name, kernel=kernel, validate=True)
            assert t.events
            if t.result.outcome != "deadlock":
                assert t.final.locks_held == (), (name, kernel)
                assert not [v for v in t.violations if v.kind == "held-on-return"]


def test_compat_unmap_over_a_fixed_replacement_double_frees():
    """Spec §6e: v4's compat path do_munmap()s the range, finds the old, already-detached VMA
    of a MAP_FIXED replacement, frees it, and the outer abort frees it again."""
    def setup(w):
        w.mmap(A, 2 * P, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED)
        lower = DriverSpec("regular", name="low", fail={"mapped": -Errno.ENOMEM})
        return {"fd": w.open_driver(DriverSpec("stacked", name="ovl", lower=lower))}
    s = Scenario("x", "", "", setup, lambda w, c: w.mmap(A, 2 * P, RW, MAP_SHARED | MAP_FIXED, c["fd"], 0))
    t = run(s, kernel="v4", validate=True)
    warns = [say(t, e) for e in t.events if e.kind == "warn"]
    assert any("already detached" in m for m in warns)
    assert any("use-after-free" in m for m in warns)
    assert t.result.ret == -Errno.ENOMEM and t.final.map_count == -1


@pytest.mark.parametrize("kernel", ["baseline", "v3", "v4", "mainline"])
def test_swapped_file_reference_on_abort(kernel):
    """Spec §6h: mmap_prepare swapped desc->vm_file; a later failure must fput the new file.
    Only mainline has that fix (31 Mar 2026); earlier kernels leak it, and the model says so."""
    w = mmviz.World(kernel=kernel)
    fd = w.open_driver(DriverSpec("regular", name="zero", swap_file=True))
    original = w.fget(fd)
    w.faults.arm("alloc")
    assert w.mmap(A, 2 * P, RW, MAP_SHARED | MAP_FIXED, fd, 0) == -Errno.ENOMEM
    swapped = [f for f in w.all_files() if f.f_inode.kind == "shmem-zero"]
    fixed = kernel == "mainline"
    assert len(swapped) == 1 and swapped[0].f_count == (0 if fixed else 1)
    assert original.f_count == 1            # only the fd's reference
    leaks = [(r["what"], r["file"], r["count"], r["owners"]) for r in w.file_ref_reports]
    assert leaks == ([] if fixed else [("file_ref_leak", swapped[0].label, 1, 0)])
    w.validate()


def test_swapped_file_is_what_the_vma_maps():
    w = mmviz.World()
    fd = w.open_driver(DriverSpec("regular", name="zero", swap_file=True))
    assert w.mmap(A, 2 * P, RW, MAP_SHARED | MAP_FIXED, fd, 0) == A
    (vma,) = w.vmas()
    assert vma.vm_file.f_inode.kind == "shmem-zero" and vma.vm_file.f_count == 1
    assert w.fget(fd).f_count == 1
    assert "/dev/zero (deleted)" in w.proc_maps()
    assert w.munmap(A, 2 * P) == 0 and vma.vm_file.f_count == 0
    w.validate()
