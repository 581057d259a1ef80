"""Issue 11: every variant is its own kernel. Each fix of the review as behaviour on traces
(outcome, VMAs left, lock events, warnings, f_count), under every variant where it differs;
the mainline variant; the series' real drivers; the citations."""

import pathlib

import pytest

import mmviz
from mmviz.model.drivers import DriverSpec, driver_state, hugetlb_vma_lock
from mmviz.model.errno import Errno
from mmviz.model.mm_types import file_operations
from mmviz.model.mmap_action import mmap_action_map_kernel_pages_full, mmap_action_remap
from mmviz.model.uapi import MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, MAP_SHARED, PROT_READ, PROT_WRITE
from mmviz.model.variants import KERNELS, VARIANTS
from mmviz.model.vm_flags import VmFlags
from mmviz.render.narration import sentence
from mmviz.scenarios import SCENARIOS, Scenario, names, record, run
from mmviz.trace import Recorder

P = 4096
A = 0x10000000
RW = PROT_READ | PROT_WRITE
ROOT = pathlib.Path(__file__).resolve().parent.parent


def say(t, e):
    return sentence(e, t.kernel)


def whats(t, kind=None):
    return [e.what for e in t.events if kind is None or e.kind == kind]


def calls(t, fn):
    return [e for e in t.events if e.kind == "call" and e.fn == fn]


def unsupported_text(t):
    (e,) = [e for e in t.events if e.what == "unsupported"]
    return say(t, e)


def test_the_variants_are_baseline_v3_v4_mainline():
    assert KERNELS == ("baseline", "v3", "v4", "mainline")
    assert VARIANTS["mainline"].commit and VARIANTS["mainline"].tree


# --- fix 1: v3's __compat_vma_mapped unmaps with unmap_vma_locked() ----------------------------

def test_v3_compat_mapped_failure_unmaps_like_v4_and_hits_the_detached_vma():
    """Spec §6e: the seed's deleted lines show __compat_vma_mapped() calling
    unmap_vma_locked() when ->mapped fails; over a MAP_FIXED replacement that munmap finds the
    old, already detached VMA: a warning, then a double free."""
    for kernel in ("v3", "v4"):
        t = record("compat-fixed-mapped-fail", kernel=kernel, validate=True)
        assert t.result.ret == -Errno.ENOMEM
        assert whats(t, "warn") == ["already_detached", "double_free"], kernel
        assert t.final.vmas == () and t.final.map_count == -1
    v3 = record("compat-fixed-mapped-fail", kernel="v3")
    unmap = next(e for e in v3.events if e.what == "unmap_new_vma")
    assert unmap.data["cause"] == "mapped"
    assert [f.fn for f in unmap.snapshot.stack][-2:] == ["__compat_vma_mapped", "unmap_vma_locked"]
    assert "vm_ops->mapped failed" in say(v3, unmap) and "not in the VMA tree" in say(v3, unmap)


def test_mainline_compat_mapped_failure_leaves_the_cleanup_to_the_outer_path():
    t = record("compat-fixed-mapped-fail", kernel="mainline", validate=True)
    assert t.result.ret == -Errno.ENOMEM
    assert whats(t, "warn") == [] and "compat_skip_unmap" in whats(t)
    assert not calls(t, "do_munmap")
    assert t.final.vmas == () and t.final.map_count == 0      # a hole, map_count intact
    assert record("compat-fixed-mapped-fail", kernel="baseline").result.outcome == "unsupported"


def test_v3_compat_path_unmaps_even_without_a_fixed_replacement():
    def setup(w):
        lower = DriverSpec("regular", name="low", fail={"mapped": -Errno.ENOMEM})
        return {"fd": w.open_driver(DriverSpec("stacked", name="ovl", lower=lower))}
    s = Scenario("x", "", "", setup, lambda w, c: w.mmap(A, P, RW, MAP_SHARED | MAP_FIXED, c["fd"], 0))
    assert len(calls(run(s, kernel="v3"), "do_munmap")) == 1
    assert len(calls(run(s, kernel="v4"), "do_munmap")) == 1
    assert calls(run(s, kernel="mainline"), "do_munmap") == []


# --- fix 2: the §6h fput belongs to mainline only -----------------------------------------------

@pytest.mark.parametrize("kernel", KERNELS)
def test_swapped_file_abort_leaks_before_mainline_and_says_so(kernel):
    t = record("swapped-file-abort", kernel=kernel, validate=True)
    assert t.result.ret == -Errno.ENOMEM and t.final.vmas == ()
    e2 = next(e for e in t.events if e.step == "E2")
    puts = [e for e in t.events if e.kind == "call" and e.fn == "fput"]
    leaks = [e for e in t.events if e.what == "file_ref_leak"]
    if kernel == "mainline":
        assert e2.data["put_swapped"] is True and leaks == []
        assert "drop the reference of the file mmap_prepare swapped in" in say(t, e2)
    else:
        assert e2.data["put_swapped"] is False and puts == []
        (leak,) = leaks
        assert leak.data["file"].startswith("/dev/zero#") and leak.data["count"] == 1
        assert leak.data["owners"] == 0 and leak.fn == "mmap"
        assert "file reference leak" in say(t, leak)
        assert "swapped" not in say(t, e2)


# --- fix 3: the baseline is the Oct 2025 kernel, not v4 with a baseline finish -----------------

@pytest.mark.parametrize("name", ["simple-ioremap", "map-kernel-pages"])
def test_baseline_has_only_three_action_types(name):
    t = record(name, kernel="baseline")
    assert t.result.outcome == "unsupported" and t.result.ret is None
    assert t.result.summary() == "not possible in this kernel"
    text = unsupported_text(t)
    assert "MMAP_NOTHING, MMAP_REMAP_PFN and MMAP_IO_REMAP_PFN" in text
    assert [e.kind for e in t.events] == ["error"]             # nothing else ran
    assert record(name, kernel="v3").result.outcome == "ok"


def _remap_outside(kernel):
    """A device whose mmap_prepare asks for a remap one page past the end of the mapping."""
    w = mmviz.World(kernel=kernel)
    ino = w.new_inode("/dev/wide", "device", dev=(0, 42))

    def prepare(desc):
        mmap_action_remap(desc, desc.start, 0xFE000, desc.end - desc.start + P)
        return 0
    fd = w.install_fd(w.new_file(ino, file_operations("wide_fops", mmap_prepare=prepare)))
    rec = Recorder(w)
    ret = w.mmap(A, 2 * P, RW, MAP_SHARED | MAP_FIXED, fd, 0)
    return ret, rec.finish("x", "", "", ret)


def test_baseline_prepare_cannot_fail_it_only_warns():
    ret, t = _remap_outside("baseline")
    assert ret == A and "remap_range_warn" in whats(t, "warn")
    prep = next(e for e in t.events if e.kind == "return" and e.fn == "mmap_action_prepare")
    assert prep.data["ret"] == "None"                           # void in the first version
    for kernel in ("v3", "v4", "mainline"):
        ret, t = _remap_outside(kernel)
        assert ret == -Errno.EFAULT and "remap_outside" in whats(t, "error"), kernel


def test_baseline_completes_an_io_remap_as_an_io_remap():
    base, v4 = record("io-remap", kernel="baseline"), record("io-remap", kernel="v4")
    assert len(calls(base, "io_remap_pfn_range_complete")) == 1
    assert calls(base, "remap_pfn_range_complete") == []
    types = {e.snapshot.pending_action.type for e in base.events if e.snapshot.pending_action}
    assert types - {"MMAP_NOTHING"} == {"MMAP_IO_REMAP_PFN"}     # never rewritten
    assert calls(v4, "io_remap_pfn_range_complete") == [] and len(calls(v4, "remap_pfn_range_complete")) == 1
    fill = next(e for e in base.events if e.what == "fill_done")
    assert fill.data["op"] == "io_remap"


def test_baseline_compat_path_has_no_desc_helpers():
    t = record("compat-stacked", kernel="baseline")
    fns = {e.fn for e in t.events if e.kind == "call"}
    assert {"compat_vma_mmap", "__compat_vma_mmap", "set_vma_from_desc"} <= fns
    assert not fns & {"compat_set_desc_from_vma", "compat_set_vma_from_desc"}
    for name in ("uio-mapped-refused", "uio-nested-hide"):
        u = record(name, kernel="baseline")
        assert u.result.outcome == "unsupported"
        assert "compat_set_desc_from_vma()" in unsupported_text(u) or "vm_ops->mapped" in unsupported_text(u)
    assert "compat_set_desc_from_vma()" in unsupported_text(record("uio-nested-hide", kernel="baseline"))


def test_baseline_has_no_mapped_to_fail():
    t = record("mapped-fail-hidden", kernel="baseline")
    assert t.result.outcome == "unsupported" and "no vm_ops->mapped" in unsupported_text(t)
    assert record("refcount-mapped-merge", kernel="baseline").result.outcome == "unsupported"


def test_the_builder_explains_what_a_variant_lacks():
    from mmviz.scenarios.custom import build_custom, run_custom, unsupported_reason
    cases = [({"kernel": "baseline", "file": "simple-ioremap"}, "MMAP_IO_REMAP_PFN"),
             ({"kernel": "baseline", "fail": "mapped"}, "no vm_ops->mapped"),
             ({"kernel": "mainline", "file": "pfn-remap", "fail": "success_hook"}, "error_override")]
    for options, words in cases:
        why = unsupported_reason(options)
        assert why and words in why, options
        s = build_custom(options)
        assert "not possible on this kernel" in s.title and words in s.description
        assert run_custom(options).result.outcome == "unsupported"
    assert unsupported_reason({"kernel": "v4", "file": "simple-ioremap"}) is None
    assert "mainline" in __import__("mmviz.scenarios.custom", fromlist=["CHOICES"]).CHOICES["kernel"]


def test_the_builder_turns_error_hook_into_error_override_on_mainline():
    from mmviz.scenarios.custom import build_custom, run_custom
    o = {"kernel": "mainline", "file": "pfn-remap", "fail": "action_complete",
         "error_hook": "EAGAIN"}
    t = run_custom(o)
    assert t.result.errno == "EAGAIN" and "error_overridden" in whats(t)
    assert not [e for e in t.events if e.kind == "hook" and e.fn == "error_hook"]
    assert "error_override" in build_custom(o).description


# --- fix 4: nommu's own do_munmap and capabilities ---------------------------------------------

def test_nommu_finish_calls_nommus_do_munmap_which_finds_nothing():
    v4 = record("nommu-remap", kernel="v4")
    assert v4.result.ret == -Errno.EINVAL
    (warn,) = [e for e in v4.events if e.what == "nommu_munmap_none"]
    assert [f.fn for f in warn.snapshot.stack][-1] == "do_munmap"
    assert [f.kernel_source for f in warn.snapshot.stack][-1] == "mm/nommu.c"
    assert "munmap of memory not mmapped" in say(v4, warn)
    ret = next(e for e in v4.events if e.kind == "return" and e.fn == "do_munmap")
    assert ret.data["ret"] == "-EINVAL"
    main = record("nommu-remap", kernel="mainline")
    assert main.result.ret == -Errno.EINVAL and "nommu_munmap_none" not in whats(main)


def test_nommu_munmap_rules():
    w = mmviz.World(mmu=False)
    assert w.munmap(0x5000_0000, P) == -Errno.EINVAL              # nothing there
    anon = w.mmap(0, 4 * P, RW, MAP_PRIVATE | MAP_ANONYMOUS)
    assert anon > 0
    assert w.munmap(anon + P, P) == 0                             # a hole in an anon VMA
    assert [(v.vm_start - anon, v.vm_end - anon) for v in w.vmas()] == [(0, P), (2 * P, 4 * P)]
    fd = w.memfd_create("shm")
    w.ftruncate(fd, 4 * P)
    f = w.mmap(0, 2 * P, RW, MAP_SHARED, fd, 0)
    assert f > 0 and w.fget(fd).f_count == 2
    assert w.munmap(f + P, P) == -Errno.EINVAL                    # part of a file VMA
    assert w.munmap(f, 2 * P) == 0 and w.fget(fd).f_count == 1
    w.validate()
    assert w.file_ref_reports == []


def test_nommu_capabilities():
    w = mmviz.World(mmu=False)
    dev = w.open_driver(DriverSpec("pfn-remap", name="fb0"))          # no get_unmapped_area
    rec = Recorder(w)
    assert w.mmap(0, 4 * P, RW, MAP_SHARED, dev, 0) == -Errno.ENODEV
    t = rec.finish("x", "", "", None)
    assert "nommu_no_direct" in whats(t) and not [e for e in t.events if e.kind == "hook"]
    assert driver_state(w, dev).prepare_calls == 0
    direct = w.open_driver(DriverSpec("pfn-remap", name="fb1", get_unmapped_area=True))
    assert w.mmap(0, 4 * P, RW, MAP_SHARED, direct, 0) == -Errno.EINVAL   # reached compat
    assert driver_state(w, direct).prepare_calls == 1
    reg = w.open_driver(DriverSpec("regular", name="notes"))           # a regular file: copy only
    assert w.mmap(0, P, RW, MAP_SHARED, reg, 0) == -Errno.ENODEV
    assert w.mmap(0, P, PROT_READ, MAP_PRIVATE, reg, 0) > 0          # a private copy
    assert driver_state(w, reg).prepare_calls == 0                   # no hook for a copy
    assert w.mmap(0, P, RW, mmviz.MAP_SHARED_VALIDATE, direct, 0) == -Errno.EINVAL
    w.validate()


# --- fix 5: ksm_compatible() --------------------------------------------------------------------

def test_ksm_never_marks_shared_special_or_hugetlb_mappings():
    w = mmviz.World(ksm_merge_any=True)
    assert w.mmap(A, P, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED) == A
    assert w.mmap(A + 2 * P, P, RW, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED) == A + 2 * P
    dev = w.open_driver(DriverSpec("pfn-remap", name="fb0"))
    assert w.mmap(A + 4 * P, P, RW, MAP_PRIVATE | MAP_FIXED, dev, 0) == A + 4 * P
    huge = w.open_driver(DriverSpec("hugetlbfs", name="huge", size_pages=1024))
    assert w.mmap(A + 0x200000, 0x200000, RW, MAP_PRIVATE | MAP_FIXED, huge, 0) == A + 0x200000
    legacy = w.open_driver(DriverSpec("legacy", name="old"))
    assert w.mmap(A + 8 * P, P, RW, MAP_SHARED | MAP_FIXED, legacy, 0) == A + 8 * P
    merge = {v.vm_start: bool(v.vm_flags & VmFlags.VM_MERGEABLE) for v in w.vmas()}
    assert merge == {A: True, A + 2 * P: False, A + 4 * P: False, A + 0x200000: False,
                     A + 8 * P: False}
    w.validate()


# --- fix 6: narration that was false -------------------------------------------------------------

def _s6(t):
    return say(t, next(e for e in t.events if e.step == "S6"))


def test_the_merge_step_says_what_it_is_judged_on():
    legacy = _s6(record("legacy-mmap-no-merge"))
    assert "final" not in legacy and ".mmap runs later" in legacy
    assert "final flags, file and pgoff the driver chose in mmap_prepare" in _s6(
        record("file-merge-skips-mapped"))
    assert "anonymous memory has no driver" in _s6(record("anon-merge-both"))


@pytest.mark.parametrize("kernel", KERNELS)
def test_only_v4_and_mainline_clear_the_hide_flag_in_compat(kernel):
    t = record("compat-stacked", kernel=kernel)
    texts = [say(t, e) for e in t.events if e.what.startswith("compat_hide")]
    clears = VARIANTS[kernel].compat_clears_hide_flag
    assert len(texts) == 1
    assert ("hide flag cleared" in texts[0]) == clears
    assert ("leaves it set" in texts[0]) == (not clears)


@pytest.mark.parametrize("name,kernel,cause", [
    ("remap-pfn-fail", "v4", "the action failed"),
    ("mapped-fail-hidden", "v4", "vm_ops->mapped failed"),
    ("mapped-fail-hidden", "v3", "vm_ops->mapped failed"),
    ("mapped-fail-hidden", "mainline", "vm_ops->mapped failed"),
    ("success-hook-fail", "v4", "success_hook failed"),
])
def test_the_unmap_sentence_names_what_failed(name, kernel, cause):
    t = record(name, kernel=kernel)
    (e,) = [e for e in t.events if e.what == "unmap_new_vma"]
    assert say(t, e).startswith(cause + ":")
    assert "the action failed" not in say(t, e) or cause == "the action failed"


def test_only_a_remap_zaps_on_failure():
    def kernel_pages(w):
        return {"fd": w.open_driver(DriverSpec("kernel-pages", name="ring0",
                                               fail={"action_complete": -Errno.ENOMEM}))}
    s = Scenario("x", "", "", kernel_pages, lambda w, c: w.mmap(A, 2 * P, RW, MAP_SHARED | MAP_FIXED, c["fd"], 0))
    kp = run(s)
    fill = next(e for e in kp.events if e.what == "fill_fail")
    assert "range is zapped" not in say(kp, fill) and "nothing is zapped" in say(kp, fill)
    remap = record("remap-pfn-fail")
    assert "the partly filled range is zapped" in say(remap, next(e for e in remap.events if e.what == "fill_fail"))


def test_the_catalog_no_longer_claims_nothing_can_fail_after_prepare():
    by = {s.name: s for s in SCENARIOS}
    for name in ("file-prepare", "prepare-fail"):
        d = by[name].description
        assert "can still fail" in d and "leave nothing to undo" in d or "never allocate" in d
        assert "nothing can fail after" not in d
        assert "every check that can fail happens before anything is built" not in d


def test_the_build_error_quotes_gcc():
    t = record("nommu-remap", kernel="v3")
    assert t.result.outcome == "build-error"
    assert "error: unknown type name 'casr'" in say(t, t.events[0])


@pytest.mark.parametrize("extra,warns", [(VmFlags.VM_PFNMAP, True),
                                         (VmFlags.VM_PFNMAP | VmFlags.VM_MIXEDMAP, False),
                                         (0, False)])
def test_map_kernel_pages_warns_on_pfnmap_only_when_it_sets_mixedmap(extra, warns):
    def setup(w):
        return {"fd": w.open_driver(DriverSpec("kernel-pages", name="ring0", extra_flags=extra))}
    t = run(Scenario("x", "", "", setup, lambda w, c: w.mmap(A, 2 * P, RW, MAP_SHARED | MAP_FIXED, c["fd"], 0)))
    assert ("kernel_pages_pfnmap" in whats(t, "warn")) == warns
    assert t.result.ret == A


# --- fix 7: spec §8's file-reference invariant -------------------------------------------------------

@pytest.mark.parametrize("kernel", ["v3", "v4", "mainline"])
def test_the_leak_the_later_fix_still_misses_is_reported(kernel):
    """The hook swaps the file, then action prepare fails: file_doesnt_need_get was never set,
    so even mainline's abort path does not drop the new file."""
    t = record("swapped-file-prepare-fail", kernel=kernel, validate=True)
    assert t.result.ret == -Errno.EINVAL and "ioremap_too_big" in whats(t, "error")
    (leak,) = [e for e in t.events if e.what == "file_ref_leak"]
    assert leak.data["count"] == 1 and leak.data["owners"] == 0
    assert record("swapped-file-prepare-fail", kernel="baseline").result.outcome == "unsupported"


def test_balanced_references_are_not_reported():
    w = mmviz.World()
    fd = w.open_driver(DriverSpec("regular", name="zero", swap_file=True))
    assert w.mmap(A, 2 * P, RW, MAP_SHARED | MAP_FIXED, fd, 0) == A
    stacked = w.open_driver(DriverSpec("stacked", name="ovl", lower=DriverSpec("regular", name="low", with_mapped=False)))
    assert w.mmap(A + 4 * P, P, RW, MAP_SHARED | MAP_FIXED, stacked, 0) == A + 4 * P
    assert w.munmap(A, 8 * P) == 0
    assert w.file_ref_reports == []


def test_a_reference_dropped_twice_is_reported():
    w = mmviz.World()
    fd = w.open_driver(DriverSpec("regular", name="notes"))
    f = w.fget(fd)
    f.f_count += 1                         # a stray reference: as if a hook forgot an fput
    w.files_touched.add(f)
    assert w.mmap(A, P, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED) == A
    assert [(r["what"], r["count"], r["owners"]) for r in w.file_ref_reports] == [("file_ref_leak", 2, 1)]
    f.f_count -= 2
    w.files_touched.add(f)
    w.mmap(A + 2 * P, P, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED)
    assert w.file_ref_reports[-1]["what"] == "file_ref_underflow"


# --- the mainline variant --------------------------------------------------------------------------

def test_mainline_error_override_replaces_the_error_after_the_unmap():
    t = record("devmem-eagain", kernel="mainline")
    assert t.result.errno == "EAGAIN" and t.final.vmas == ()
    seq = {w: next(e.seq for e in t.events if e.what == w) for w in ("unmap_new_vma", "error_overridden")}
    assert seq["unmap_new_vma"] < seq["error_overridden"]
    assert not [e for e in t.events if e.kind == "hook" and e.fn == "error_hook"]
    for kernel in ("baseline", "v3", "v4"):
        old = record("devmem-eagain", kernel=kernel)
        assert old.result.errno == "EAGAIN" and [e.fn for e in old.events if e.kind == "hook"
                                                  and e.data.get("phase") == "enter"][-1] == "error_hook"


def test_mainline_refuses_an_invalid_error_override():
    t = record("error-override-invalid", kernel="mainline", validate=True)
    assert t.result.ret == -Errno.EINVAL and t.final.vmas == ()
    (warn,) = [e for e in t.events if e.kind == "warn"]
    assert warn.what == "error_override_invalid" and warn.fn == "check_mmap_action"
    assert warn.data["value"] == int(Errno.EAGAIN)
    assert "S7" not in [e.step for e in t.events if e.step]        # no VMA was ever made
    for kernel in ("baseline", "v3", "v4"):
        u = record("error-override-invalid", kernel=kernel)
        assert u.result.outcome == "unsupported" and "no action.error_override" in unsupported_text(u)


def test_mainline_has_no_hooks():
    t = record("success-hook-fail", kernel="mainline")
    assert t.result.outcome == "unsupported" and "no success_hook or error_hook" in unsupported_text(t)
    with pytest.raises(mmviz.MmvizError):
        mmviz.World(kernel="mainline").open_driver(DriverSpec("pfn-remap", error_hook=-Errno.EIO))


def test_mainline_removed_the_mmap_hook_check():
    def setup(w):
        return {"fd": w.open_driver(DriverSpec("stacked", name="ovl", lower=DriverSpec("regular", name="low")))}
    s = Scenario("x", "", "", setup, lambda w, c: w.mmap(A, P, RW, MAP_SHARED | MAP_FIXED, c["fd"], 0))
    assert run(s, kernel="v4").result.ret == -Errno.EINVAL
    t = run(s, kernel="mainline", validate=True)
    assert t.result.ret == A and "check_mmap_hook" not in whats(t)


@pytest.mark.parametrize("name", names())
def test_every_scenario_runs_under_mainline_from_the_cli(name, capsys):
    from mmviz.cli.main import main
    assert main(["trace", name, "--kernel", "mainline"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"mmviz trace {name} — kernel mainline")
    assert "Result:" in out


# --- the real drivers of the series -----------------------------------------------------------------

def test_hugetlbfs_allocates_its_vma_lock_while_hidden_except_in_v3():
    for kernel in KERNELS:
        w_trace = record("hugetlbfs-prepare", kernel=kernel, validate=True)
        assert w_trace.result.ret == A
        (v,) = w_trace.final.vmas
        assert {"VM_HUGETLB", "VM_DONTEXPAND"} <= set(v.flags)
        visible = "hugetlb_lock_visible" in whats(w_trace, "warn")
        assert visible == (kernel == "v3"), kernel
    v4 = record("hugetlbfs-prepare", kernel="v4")
    hook = next(e for e in v4.events if e.kind == "hook" and e.fn == "success_hook")
    assert any(l.startswith("i_mmap_rwsem(/dev/hugepages/huge)") for l in hook.locks_held)
    main = record("hugetlbfs-prepare", kernel="mainline")
    assert [e.fn for e in main.events if e.kind == "hook" and e.data.get("phase") == "enter"] == ["f_op->mmap"]


def test_hugetlbfs_vma_lock_object_lives_in_vm_private_data():
    for kernel in ("v4", "mainline"):
        w = mmviz.World(kernel=kernel)
        fd = w.open_driver(DriverSpec("hugetlbfs", name="huge", size_pages=1024))
        assert w.mmap(A, 0x200000, RW, MAP_SHARED | MAP_FIXED, fd, 0) == A
        (vma,) = w.vmas()
        lock = vma.vm_private_data
        assert isinstance(lock, hugetlb_vma_lock) and lock.vma is vma and not lock.freed
        assert lock.rw_sema.name.startswith("hugetlb_vma_lock#")
        assert w.munmap(A, 0x200000) == 0 and lock.freed
        assert driver_state(w, fd).vma_locks == []


@pytest.mark.parametrize("kernel", KERNELS)
def test_hugetlbfs_prepare_time_reservation_leaks_on_a_later_failure(kernel):
    t = record("hugetlbfs-prepare-leak", kernel=kernel, validate=True)
    assert t.result.ret == -Errno.ENOMEM and t.final.vmas == ()
    leaked = [e for e in t.events if e.what == "prepare_state_leaked"]
    if VARIANTS[kernel].hugetlbfs_mmap_prepare:
        (e,) = leaked
        assert e.data == {"resv_maps": 1, "reserved": 1}
    else:
        assert leaked == []
        state = next(e for e in t.events if e.what == "hugetlb_state")
        assert state.data["reserved"] == 0


@pytest.mark.parametrize("kernel", KERNELS)
def test_devmem_turns_any_failure_into_eagain(kernel):
    t = record("devmem-eagain", kernel=kernel, validate=True)
    assert t.result.errno == "EAGAIN" and t.final.vmas == () and t.violations == ()
    fill = next(e for e in t.events if e.what == "fill_fail")
    assert fill.data["start_pfn"] == 0xFE000                 # the physical page at the offset


def test_uio_mapped_is_refused_until_the_check_was_removed_and_leaks_the_reference():
    for kernel in ("v3", "v4"):
        t = record("uio-mapped-refused", kernel=kernel, validate=True)
        assert t.result.ret == -Errno.EINVAL and t.final.vmas == ()
        assert whats(t, "warn") == ["check_mmap_hook", "driver_ref_leak"]
        refs = next(e for e in t.events if e.what == "driver_refs")
        assert refs.data["refs"] == 1 and refs.data["mapped"] == 1 and refs.data["close"] == 0
    t = record("uio-mapped-refused", kernel="mainline", validate=True)
    assert t.result.ret == A and whats(t, "warn") == []
    refs = next(e for e in t.events if e.what == "driver_refs")
    assert (refs.data["refs"], refs.data["vmas"]) == (1, 1)


def test_uio_nested_hide_unlocks_a_lock_nobody_took_from_v4_on():
    assert record("uio-nested-hide", kernel="v3", validate=True).violations == ()
    for kernel in ("v4", "mainline"):
        t = record("uio-nested-hide", kernel=kernel, validate=True)
        assert [(v.kind, v.lock) for v in t.violations] == [("unlock-not-held", "i_mmap_rwsem(/dev/uio0)")]
        bad = t.events[t.violations[0].seq]
        assert bad.fn == "maybe_rmap_unlock_action"
        stack = [f.fn for f in bad.snapshot.stack]
        assert "__compat_vma_mmap" in stack and "compat_vma_mmap" not in stack
        assert "compat_hide_cleared" not in whats(t)


@pytest.mark.parametrize("kernel", KERNELS)
def test_a_reference_taken_in_prepare_is_lost_in_a_merge(kernel):
    t = record("refcount-prepare-merge", kernel=kernel, validate=True)
    assert t.result.ret == A + P
    assert [(v.start, v.end) for v in t.final.vmas] == [(A, A + 2 * P)]
    assert "merged_no_action" in whats(t)
    refs = next(e for e in t.events if e.what == "driver_refs")
    assert (refs.data["refs"], refs.data["vmas"], refs.data["prepare"]) == (2, 1, 2)
    assert "driver_ref_leak" in whats(t, "warn")
    # Unmapping closes the one VMA once: one reference is left for ever.
    w = mmviz.World(kernel=kernel)
    fd = w.open_driver(DriverSpec("refcount", name="afsfile"))
    w.mmap(A, P, RW, MAP_SHARED | MAP_FIXED, fd, 0)
    w.mmap(A + P, P, RW, MAP_SHARED | MAP_FIXED, fd, P)
    assert w.munmap(A, 2 * P) == 0 and driver_state(w, fd).refs == 1


@pytest.mark.parametrize("kernel", ["v3", "v4", "mainline"])
def test_taking_the_reference_in_mapped_balances(kernel):
    t = record("refcount-mapped-merge", kernel=kernel, validate=True)
    assert t.result.ret == A + P and whats(t, "warn") == []
    refs = next(e for e in t.events if e.what == "driver_refs")
    assert (refs.data["refs"], refs.data["vmas"], refs.data["mapped"]) == (1, 1, 1)
    w = mmviz.World(kernel=kernel)
    fd = w.open_driver(DriverSpec("refcount", name="afsfile", ref_in="mapped"))
    w.mmap(A, P, RW, MAP_SHARED | MAP_FIXED, fd, 0)
    w.mmap(A + P, P, RW, MAP_SHARED | MAP_FIXED, fd, P)
    assert w.munmap(A, 2 * P) == 0 and driver_state(w, fd).refs == 0


# --- citations ------------------------------------------------------------------------------------------

def test_docs_variants_table_cites_every_variant():
    text = (ROOT / "docs" / "variants.md").read_text()
    rows = {line.split("`")[1]: line for line in text.splitlines() if line.startswith("| `")}
    cited = {"baseline": "ac0a3fc9c07d", "v3": "v3→v4", "v4": "cover.1774045440.git.ljs@kernel.org",
             "mainline": "0a1e70b48f45"}
    for v in VARIANTS.values():
        assert cited[v.name] in rows[v.name], v.name
        assert cited[v.name] in v.commit + v.tree + v.source or v.name == "v3", v.name
    for cite in ("ac0a3fc9c07d", "1774045440", "3d3544a6c996", "83f9efcce93f", "ea52cb24cd3f",
                 "20260421102150.189982-1-ljs@kernel.org", "fix memory leak in __mmap_region()"):
        assert cite in text, cite


def test_every_new_scenario_cites_its_source():
    by = {s.name: s for s in SCENARIOS}
    cites = {"hugetlbfs-prepare": "ea52cb24cd3f", "hugetlbfs-prepare-leak": "83f9efcce93f",
             "devmem-eagain": "drivers/char/mem.c", "uio-mapped-refused": "3d3544a6c996",
             "uio-nested-hide": "spec §6f", "refcount-prepare-merge": "afs",
             "swapped-file-abort": "605f6586ecf7", "compat-fixed-mapped-fail": "spec §6e"}
    for name, cite in cites.items():
        assert cite in by[name].description, name


def test_scenarios_lists_the_variants_each_scenario_tells_apart(capsys):
    from mmviz.cli.main import main
    from mmviz.scenarios import race_names
    from mmviz.scenarios.distinguish import variant_groups
    assert main(["scenarios"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "variants told apart" in lines[0]
    row = {line.split()[0]: line for line in lines[1:] if line and not line.endswith(":")}
    assert set(row) == set(names()) | set(race_names())
    assert "baseline=v3=v4 | mainline" in row["swapped-file-abort"]
    assert "baseline | v3 | v4=mainline" in row["mapped-fail-hidden"]
    assert row["anon-new"].split()[1] == "-"
    # computed from real traces: the groups match the recorded results
    groups = variant_groups("success-hook-fail")
    assert groups == (("baseline", "v3"), ("v4",), ("mainline",))
