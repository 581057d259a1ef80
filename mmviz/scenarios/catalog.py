"""The scenario catalog: every named scenario, shared by tests, notebooks, slides and the CLI."""

from __future__ import annotations

from ..model.drivers import DriverSpec, driver_state
from ..model.errno import Errno
from ..model.errors import InputError
from ..model.uapi import (MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, MAP_SHARED, MREMAP_FIXED,
                          MREMAP_MAYMOVE, PROT_READ)
from ..model.vm_flags import VmFlags
from . import series
from .base import A, ANON, RW, P, Scenario
from .base import map_fd as _map_fd, mapped_calls as _mapped_calls



def _nothing(world):
    return {}


def _open(spec):
    def setup(world):
        return {"fd": world.open_driver(spec())}
    return setup


def _range_empty(addr, length):
    def check(world, ctx, ret):
        yield from _mapped_calls(world, ctx, ret)
        left = world.vmas(addr, addr + length)
        if left and ret is not None and ret < 0:
            yield "warn", "still_mapped_after_error", {"errno": ret, "vma": left[0].id}
        elif not left:
            yield "note", "range_empty", {}
    return check


# --- setups --------------------------------------------------------------------------------

def _anon_gap(world):
    world.mmap(A, 2 * P, RW, ANON)
    world.mmap(A + 3 * P, 2 * P, RW, ANON)
    return {}


def _file_merge(world):
    fd = world.open_driver(DriverSpec("regular", name="notes"))
    world.mmap(A, P, RW, MAP_SHARED | MAP_FIXED, fd, 0)
    return {"fd": fd}


def _legacy_mapped_once(world):
    fd = world.open_driver(DriverSpec("legacy", name="oldcam", extra_flags=VmFlags.VM_HUGEPAGE))
    world.mmap(A, 2 * P, RW, MAP_SHARED | MAP_FIXED, fd, 0)
    return {"fd": fd}


def _file_then_anon(world):
    fd = world.open_driver(DriverSpec("regular", name="data", with_close=True))
    world.mmap(A, 4 * P, RW, MAP_SHARED | MAP_FIXED, fd, 0)
    return {"fd": fd}


def _anon_then_prepare_fail(world):
    world.mmap(A, 3 * P, RW, ANON)
    world.touch(A)
    fd = world.open_driver(DriverSpec("regular", name="broken", fail={"mmap_prepare": -Errno.EINVAL}))
    return {"fd": fd, "committed_before": world.vm_committed}


def _charge_check(world, ctx, ret):
    yield from _range_empty(A, 3 * P)(world, ctx, ret)
    owned = sum(v.pages() for v in world.vmas() if v.vm_flags & VmFlags.VM_ACCOUNT)
    if world.vm_committed != owned:
        yield "warn", "charge_mismatch", {"committed": world.vm_committed, "owned": owned}


def _fill_to_limit(world):
    for i in range(5):
        world.mmap(A + 2 * i * P, P, RW if i % 2 else PROT_READ, ANON)
    return {}


def _stacked_setup(world):
    lower = DriverSpec("regular", name="lower", hide=True, with_mapped=False)
    return {"fd": world.open_driver(DriverSpec("stacked", name="overlay", lower=lower))}


def _stacked_check(world, ctx, ret):
    s = driver_state(world, ctx["fd"]).lower.private
    yield "note", "lower_counts", {"prepare": s.prepare_calls, "mapped": s.mapped_calls}


# --- issue 14 scenarios: setups, acts and checks -------------------------------------------

def _mremap_setup(world):
    world.mmap(A, 4 * P, RW, ANON)
    world.touch(A)
    world.mmap(A + 20 * P, 4 * P, RW, ANON)
    world.mremap(A, 4 * P, 4 * P, MREMAP_MAYMOVE | MREMAP_FIXED, A + 24 * P)
    world.mmap(A + 4 * P, 4 * P, RW, ANON)
    return {}


def _mremap_act(world, ctx):
    return world.mremap(A + 24 * P, 4 * P, 4 * P, MREMAP_MAYMOVE | MREMAP_FIXED, A)


def _fork_setup(world):
    world.mmap(A, 4 * P, RW, ANON)
    world.touch(A)
    return {"child": world.fork()}


def _fork_act(world, ctx):
    ctx["child"].mmap(A + 4 * P, 4 * P, RW, ANON)
    return world.mmap(A + 4 * P, 4 * P, RW, ANON)


def _spaces_check(world, ctx, ret):
    for t in world.tasks:
        if not t.exited:
            yield "note", "process_vmas", {
                "pid": t.tgid, "bounds": [b for v in t.mm.mm_mt for b in (v.vm_start, v.vm_end)]}


def _mlock_setup(world):
    world.mmap(A, 8 * P, RW, ANON)
    return {}


def _locked_check(world, ctx, ret):
    yield from _spaces_check(world, ctx, ret)
    yield "note", "locked_vm", {"pages": world.mm.locked_vm}


SCENARIOS = [
    Scenario(
        "anon-new", "A new anonymous mapping",
        "The simplest mmap(): private anonymous memory with no neighbours. do_mmap picks an "
        "address top-down, __mmap_region finds nothing to merge with, so __mmap_new_vma "
        "allocates a VMA, write-locks it before storing it in the tree (no page fault can use "
        "it until mmap_lock is dropped), and __mmap_complete accounts it. No file means no "
        "rmap lock and no driver hook.",
        _nothing, lambda w, c: w.mmap(0, 4 * P, RW, MAP_PRIVATE | MAP_ANONYMOUS)),
    Scenario(
        "anon-merge-both", "Filling a hole merges three VMAs into one",
        "Two private anonymous VMAs leave a one-page hole. Mapping the hole with the same "
        "flags lets vma_merge_new_range extend the left VMA over the hole and over the right "
        "one, which is deleted: no new VMA is ever allocated and map_count drops from 2 to 1. "
        "Anonymous VMAs are pgoff-contiguous because their vm_pgoff is the virtual page number.",
        _anon_gap, lambda w, c: w.mmap(A + 2 * P, P, RW, ANON)),
    Scenario(
        "file-prepare", "A file's mmap_prepare describes the mapping before the VMA exists",
        "A regular file converted to .mmap_prepare: the hook fills a vm_area_desc (vm_ops, "
        "private data) while no VMA exists. Steps after it can still fail (allocating the "
        "VMA, the action, ->mapped) and the kernel then unwinds without calling the driver "
        "back, which is why prepare must only describe the mapping and leave nothing to "
        "undo. __mmap_region adopts its choices before trying to merge, allocates the VMA, "
        "links it into the file's i_mmap under i_mmap_rwsem, and only then calls "
        "vm_ops->mapped exactly once for the new VMA (the first version had no ->mapped).",
        _open(lambda: DriverSpec("regular", name="notes")), _map_fd(), check=_mapped_calls),
    Scenario(
        "file-merge-skips-mapped", "A merged mapping never calls ->mapped",
        "The same file is already mapped at the previous page with the same flags and vm_ops. "
        "The new range merges into that VMA, so no VMA is created: no action runs and "
        "vm_ops->mapped is not called, yet S8 still copies the descriptor's vm_ops and "
        "private_data onto the merged VMA. A driver must not assume one ->mapped per mmap() "
        "call (spec §6k).",
        _file_merge, _map_fd(length=P, addr=A + P, offset=P), check=_mapped_calls),
    Scenario(
        "remap-pfn", "Mapping device memory with MMAP_REMAP_PFN",
        "A device driver asks for its physical pages to be mapped with "
        "mmap_action_remap_full(). Prepare checks the range and sets VM_IO, VM_PFNMAP, "
        "VM_DONTEXPAND and VM_DONTDUMP, which make the mapping VM_SPECIAL: it can never merge. "
        "The PFNs are written into the page tables only at completion, once the VMA exists.",
        _open(lambda: DriverSpec("pfn-remap", name="fb0")), _map_fd(), check=_mapped_calls),
    Scenario(
        "remap-pfn-fail", "The PFN remap fails after the VMA exists",
        "The same device, but filling the page tables fails with -ENOMEM at completion. The "
        "VMA is already in the tree and the rmap, so mmap_action_finish must undo it: it "
        "skips ->mapped, then do_munmap()s the new VMA and returns the error. User space sees "
        "-ENOMEM and nothing mapped.",
        _open(lambda: DriverSpec("pfn-remap", name="fb0", fail={"action_complete": -Errno.ENOMEM})),
        _map_fd(), check=_range_empty(A, 4 * P)),
    Scenario(
        "io-remap", "MMAP_IO_REMAP_PFN becomes MMAP_REMAP_PFN in prepare",
        "An I/O device uses mmap_action_ioremap_full(). Prepare translates the PFN for I/O "
        "memory, makes the protection decrypted and rewrites the action type to "
        "MMAP_REMAP_PFN, so completion only ever has to know one remap path.",
        _open(lambda: DriverSpec("io-remap", name="mmio0")), _map_fd(), check=_mapped_calls),
    Scenario(
        "simple-ioremap", "The vm_iomap_memory() equivalent: MMAP_SIMPLE_IO_REMAP",
        "The driver only states the physical range of its registers. Prepare checks that the "
        "requested pgoff and length fit inside it, computes the first PFN and turns the action "
        "into an I/O remap, which in turn becomes MMAP_REMAP_PFN.",
        _open(lambda: DriverSpec("simple-ioremap", name="regs0", size_pages=8)), _map_fd(),
        check=_mapped_calls),
    Scenario(
        "map-kernel-pages", "Inserting kernel pages: MMAP_MAP_KERNEL_PAGES",
        "A driver hands over an array of its own pages with "
        "mmap_action_map_kernel_pages_full(), the vm_insert_pages() equivalent. Prepare sets "
        "VM_MIXEDMAP (so again VM_SPECIAL, never merged); completion inserts the pages.",
        _open(lambda: DriverSpec("kernel-pages", name="ring0")), _map_fd(), check=_mapped_calls),
    Scenario(
        "mapped-fail-hidden", "->mapped fails while the VMA is hidden from the rmap",
        "The file sets hide_from_rmap_until_complete, so i_mmap_rwsem stays held from the "
        "moment the VMA is linked into i_mmap until completion, and its vm_ops->mapped fails "
        "with -ENOMEM. In v3, finish drops the rmap lock, then call_mapped_hook() drops it a "
        "second time on the error path: an unlock of a lock not held (spec §6a). In v4 and "
        "mainline there is one release point, maybe_rmap_unlock_action(), after ->mapped and "
        "before do_munmap. The first version had no ->mapped to fail.",
        _open(lambda: DriverSpec("regular", name="hidden", hide=True,
                                 fail={"mapped": -Errno.ENOMEM})),
        _map_fd(), check=_range_empty(A, 4 * P)),
    Scenario(
        "action-fail-hidden", "The action fails while the rmap lock is held",
        "The device hides its VMA from the rmap and its PFN remap fails at completion. In the "
        "October 2025 baseline, finish calls do_munmap() while the caller still holds "
        "i_mmap_rwsem; unmapping frees the page tables and unlinks the VMA from the file rmap, "
        "which takes i_mmap_rwsem again: the task deadlocks on itself (spec §6b). v3, v4 and "
        "mainline drop the lock before unmapping.",
        _open(lambda: DriverSpec("pfn-remap", name="fb0", hide=True,
                                 fail={"action_complete": -Errno.ENOMEM})),
        _map_fd(), check=_range_empty(A, 4 * P)),
    Scenario(
        "success-hook-fail", "success_hook fails after a successful action",
        "The action succeeds but the driver's success_hook returns -EINVAL. The baseline and "
        "v3 return the hook's error straight to user space while the VMA stays mapped: mmap() "
        "reports failure for a mapping that exists (spec §6i). v4 feeds the error into the "
        "common error path, which unmaps the VMA. Mainline has no success_hook at all.",
        _open(lambda: DriverSpec("pfn-remap", name="fb0", fail={"success_hook": -Errno.EINVAL})),
        _map_fd(), check=_range_empty(A, 4 * P)),
    Scenario(
        "prepare-fail", "mmap_prepare refuses the mapping",
        "The driver's mmap_prepare returns -EINVAL. No VMA exists yet, so there is nothing to "
        "undo: __mmap_region jumps to abort_munmap and returns the error. Steps after a "
        "successful prepare can still fail (allocating the VMA, the action, ->mapped), and "
        "then nothing calls the driver back to undo what its prepare did: that is why "
        "prepare must validate and describe, never allocate or take references (spec §6g).",
        _open(lambda: DriverSpec("regular", name="picky", fail={"mmap_prepare": -Errno.EINVAL})),
        _map_fd(), check=_range_empty(A, 4 * P)),
    Scenario(
        "compat-stacked", "A stacked file reaches mmap_prepare through the compat layer",
        "An overlay-like file implements the legacy .mmap and forwards to its lower file with "
        "vfs_mmap(). The lower file only has mmap_prepare, so compat_vma_mmap() builds a "
        "descriptor from the VMA the outer mmap is still constructing. That VMA is in neither "
        "the tree nor any i_mmap, so it is hidden by construction: v4 and mainline clear the "
        "lower file's hide flag so that finish does not release a lock nobody took; the "
        "baseline and v3 leave it set, harmlessly, since their compat path never releases "
        "the rmap lock. (Give the lower file a vm_ops->mapped in the Scenario Builder to see "
        "v3/v4's __vma_check_mmap_hook() mistake the compat call for a legacy driver and "
        "refuse it with a WARN; mainline removed the check.)",
        _stacked_setup, _map_fd(), check=_stacked_check),
    Scenario(
        "nommu-remap", "Without an MMU a remap action cannot complete",
        "On a kernel without an MMU a shared mapping of a device needs NOMMU_MAP_DIRECT, so "
        "the device provides get_unmapped_area (without it mmap() is refused with -ENODEV). "
        "Every such file is reached through mmap_file(), so an mmap_prepare device goes "
        "through the compat path. The nommu prepare warns about the remap action but "
        "returns 0; the nommu complete warns and fails with -EINVAL. Before mainline, finish "
        "then calls nommu's do_munmap() on a VMA that was never added: it warns about "
        "memory not mmapped and fails too; mainline's is_compat skips it. nommu's own error "
        "handling frees the region. Under v3 this configuration does not even build "
        "(spec §6c).",
        _open(lambda: DriverSpec("pfn-remap", name="fb0", get_unmapped_area=True)),
        lambda w, c: w.mmap(0, 4 * P, RW, MAP_SHARED, c["fd"], 0),
        nommu=True, check=_mapped_calls),
    Scenario(
        "legacy-mmap-no-merge", "A legacy .mmap changes flags too late to merge",
        "A device still on the deprecated .mmap hook is already mapped at the previous pages, "
        "and its .mmap always adds VM_HUGEPAGE. The merge decision (S6) is taken on the flags "
        "before the hook runs: without VM_HUGEPAGE the new range does not match its neighbour, "
        "so a new VMA is allocated and only then does .mmap add the flag. The two VMAs end up "
        "identical, but since May 2025 there is no retry merge: two VMAs where one would do. "
        "Converted to mmap_prepare, the driver sets the flag in the descriptor before S6 and "
        "the merge is judged on it.",
        _legacy_mapped_once, _map_fd(length=2 * P, addr=A + 2 * P, offset=2 * P),
        check=_mapped_calls),
    Scenario(
        "fixed-replace", "MAP_FIXED replaces an existing file mapping",
        "Anonymous memory is mapped with MAP_FIXED over the middle of a file mapping whose "
        "vm_ops has close. __mmap_setup splits the old VMA at both ends, detaches the middle "
        "into a side tree, zaps its pages and calls ->close; the new VMA is stored over the "
        "old slots and __mmap_complete frees the old one.",
        _file_then_anon, lambda w, c: w.mmap(A + P, 2 * P, RW, ANON)),
    Scenario(
        "fixed-prepare-fail-hole", "MAP_FIXED with a failing mmap_prepare leaves a hole",
        "A private file mapping is placed with MAP_FIXED over an existing anonymous VMA, and "
        "the file's mmap_prepare fails. By then __mmap_setup has already zapped the old pages "
        "and called ->close, so the old VMA cannot be put back: the range becomes a hole and "
        "mmap() returns -EINVAL. The old VMA's commit charge was handed to the new mapping, "
        "which never came to be (spec §6j).",
        _anon_then_prepare_fail, _map_fd(length=3 * P, flags=MAP_PRIVATE | MAP_FIXED),
        check=_charge_check),
    Scenario(
        "map-count-limit", "vm.max_map_count stops a new mapping",
        "With vm.max_map_count set to 4, five separate VMAs already exist (do_mmap allows a "
        "new mapping while map_count is not above the limit, so the fifth got in). The next "
        "mmap() is refused with -ENOMEM before anything is looked up.",
        _fill_to_limit, lambda w, c: w.mmap(A + 20 * P, P, RW, ANON),
        world_settings=(("max_map_count", 4),)),
    # --- the history of the series and its real drivers (issue 11) ---
    Scenario(
        "compat-fixed-mapped-fail", "The compat path unmaps a VMA that is not in the tree",
        "An overlay-like file is mapped with MAP_FIXED over an anonymous VMA, and its lower "
        "mmap_prepare file's vm_ops->mapped fails. __mmap_setup has already detached and "
        "zapped the old VMA; the new VMA is still being built by the outer .mmap, so it is "
        "not in the tree. v3 (__compat_vma_mapped) and v4 (finish) nevertheless do_munmap() "
        "the range: the munmap finds the old, already detached VMA still in the tree's slots, "
        "warns, and frees it; the outer abort frees it again (spec §6e, from the syzbot "
        "report behind \"mm/vma: do not try to unmap a VMA if mmap_prepare() invoked from "
        "mmap()\"). Mainline's is_compat returns the error untouched and lets the outer path "
        "clean up: the old range becomes a hole, nothing is freed twice. The first version "
        "had no ->mapped to fail.",
        series.compat_fixed_setup, _map_fd(2 * P), check=series.compat_fixed_check),
    Scenario(
        "swapped-file-abort", "mmap_prepare swaps the file, then the VMA cannot be allocated",
        "Like a shared /dev/zero mapping becoming a shmem file, the driver's mmap_prepare puts "
        "a new file in desc->vm_file; the mapping owns that file's only reference "
        "(file_doesnt_need_get). Then vm_area_alloc() fails. Until \"mm/vma: fix memory leak "
        "in __mmap_region()\" (Sechang Lim, 31 Mar 2026, Fixes 605f6586ecf7) the abort path "
        "dropped no reference on the new file: it leaks, and the file-reference check says "
        "so when mmap() returns. Mainline has the fix (spec §6h).",
        series.swapped_abort_setup, series.swapped_abort_act, check=_range_empty(A, 2 * P)),
    Scenario(
        "swapped-file-prepare-fail", "The hook swaps the file, then action prepare fails",
        "The leak the 31 Mar 2026 fix still misses: the driver swaps desc->vm_file and asks "
        "for a simple I/O remap bigger than its 2-page device, so mmap_action_prepare() "
        "fails. call_mmap_prepare() returns before it copies the descriptor back, so "
        "file_doesnt_need_get is never set and abort_munmap has no reason to drop the new "
        "file: it leaks in every kernel that can run it. (The first version's prepare could "
        "not fail, and it had no simple I/O remap.)",
        series.swapped_prepare_fail_setup, _map_fd(),
        check=_range_empty(A, 4 * P)),
    Scenario(
        "hugetlbfs-prepare", "hugetlbfs on mmap_prepare: hidden until its VMA lock exists",
        "hugetlbfs as converted by ea52cb24cd3f (\"mm/hugetlbfs: update hugetlbfs to use "
        "mmap_prepare\", fs/hugetlbfs/inode.c): its mmap_prepare sets VM_HUGETLB and "
        "VM_DONTEXPAND, reserves the huge pages, asks to be hidden from the rmap and leaves a "
        "success_hook that allocates the per-VMA hugetlb lock (in vm_private_data) once the "
        "VMA exists: an rmap walker, such as a truncation, must not find a shared hugetlb "
        "VMA without its lock. In the baseline and v4 the hook runs while i_mmap_rwsem is "
        "still held. v3's finish releases the rmap lock first and calls success_hook after: "
        "the VMA is visible without its lock, the very window the flag was for. Mainline runs "
        "the reverted .mmap driver, which allocates the lock in .mmap, before the VMA is "
        "linked at all.",
        series.hugetlbfs_setup, series.hugetlbfs_shared_act, check=series.hugetlbfs_check),
    Scenario(
        "hugetlbfs-prepare-leak", "Why hugetlbfs's conversion was reverted",
        "A private hugetlbfs mapping: mmap_prepare reserves the huge page and puts the "
        "reservation map in desc->private_data. Then allocating the VMA fails (-ENOMEM). No "
        "VMA ever exists, so no close will release what prepare set up: the reservation "
        "leaks. The revert (83f9efcce93f, 12 May 2026, "
        "20260512160643.266960-1-ljs@kernel.org) says the conversion handled the VMA lock "
        "wrongly at the mmap_prepare stage, so a failure after mmap_prepare could leak it; "
        "the same holds for all state made in prepare (spec §6g: prepare must be free of side "
        "effects). Mainline runs the reverted .mmap driver: the allocation fails before "
        ".mmap runs, so nothing was reserved.",
        series.hugetlbfs_setup, series.hugetlbfs_leak_act, check=series.hugetlbfs_check),
    Scenario(
        "devmem-eagain", "/dev/mem turns a failed remap into -EAGAIN",
        "drivers/char/mem.c after \"mm: update mem char driver to use mmap_prepare\" (the "
        "series of ac0a3fc9c07d): mmap_mem_prepare() asks for the physical pages at the file "
        "offset with mmap_action_remap_full() and, as the old mmap_mem() returned -EAGAIN "
        "when remap_pfn_range() failed, filters any error to -EAGAIN: an error_hook "
        "(mmap_filter_error) up to v4, error_override = -EAGAIN in mainline, where the hooks "
        "are gone. Here the remap fails with -ENOMEM; finish unmaps the VMA and user space "
        "sees -EAGAIN under every kernel.",
        series.devmem_setup, series.devmem_act, check=_range_empty(A, 4 * P)),
    Scenario(
        "uio-mapped-refused", "A UIO driver's own ->mapped is refused as a legacy hook",
        "drivers/uio/uio.c after v4's \"uio: replace deprecated mmap hook with mmap_prepare "
        "in uio_info\": the device's .mmap runs the nested uio_info->mmap_prepare through "
        "compat_set_desc_from_vma() and __compat_vma_mmap(), and target_core_user's "
        "vm_ops->mapped takes a reference on the device. ->mapped runs and succeeds inside "
        "the compat call, but when .mmap returns, vfs_mmap()'s __vma_check_mmap_hook() sees a "
        "->mapped installed from .mmap, WARNs and fails the mmap with -EINVAL (reported "
        "against linux-next, 13 Apr 2026). The VMA is torn down without close, so the "
        "reference ->mapped took leaks. Mainline removed the check (3d3544a6c996 \"mm/vma: "
        "remove __vma_check_mmap_hook()\"). The first version had neither the compat "
        "halves nor ->mapped.",
        series.uio_setup, _map_fd(), check=series.refs_check),
    Scenario(
        "uio-nested-hide", "A nested mmap_prepare asks to be hidden from the rmap",
        "The same UIO path, with a nested mmap_prepare that sets "
        "hide_from_rmap_until_complete. compat_vma_mmap() clears that flag, because a VMA "
        "being built by an outer .mmap is in no rmap and no rmap lock was taken; "
        "__compat_vma_mmap(), which UIO calls directly, does not (spec §6f). From v4 on, "
        "finish's maybe_rmap_unlock_action() then releases the file's i_mmap_rwsem, which "
        "nobody took. v3 passed rmap_lock_held=false from the compat path and is clean. No "
        "in-tree callback sets the flag this way: the gap is latent.",
        series.uio_hide_setup, _map_fd(), check=_mapped_calls),
    Scenario(
        "refcount-prepare-merge", "A reference taken in mmap_prepare is lost in a merge",
        "A file converted from .mmap counts its mappings, as afs did, by taking a reference "
        "in mmap_prepare and dropping it in close (the v4 cover letter: afs \"wrongly "
        "manipulated reference count at mmap_prepare time\"). The second mmap() of the next "
        "page merges into the first VMA: prepare ran and took a reference, but no VMA was "
        "created, so one VMA now holds two references and its one close will drop only one "
        "(spec §6d5, §6k). The same leak follows any failure after prepare.",
        series.refcount_setup("prepare"), series.refcount_act, check=series.refs_check),
    Scenario(
        "refcount-mapped-merge", "The fix: take the reference in ->mapped",
        "The same file with the reference taken in vm_ops->mapped, which runs once per new "
        "VMA, after everything that can fail, and never on a merge: the merged mmap() takes "
        "no reference, so the one VMA holds one, which its close will drop. The first "
        "version had no ->mapped.",
        series.refcount_setup("mapped"), series.refcount_act, check=series.refs_check),
    Scenario(
        "error-override-invalid", "error_override must be a negative errno",
        "Mainline replaced success_hook and error_hook by one field, "
        "action.error_override: if set, it replaces the error of a failed action or "
        "->mapped (outside the compat path). This driver writes EAGAIN without the minus "
        "sign; check_mmap_action() catches it in prepare with a WARN and fails the mmap with "
        "-EINVAL before any VMA exists. Earlier kernels have no error_override.",
        series.override_setup, _map_fd(), check=_range_empty(A, 4 * P)),
    # ---- issue 14: mremap, fork, mlock (appended at the end to keep merges clean) ----------
    Scenario(
        "mremap-move-merge", "An mremap move that merges at its destination",
        "Four written pages first moved from page 0 to page 24, next to a VMA at page 20: "
        "they did not merge there, because a VMA with pages keeps its vm_pgoff (page 0) when "
        "it moves, and rmap_walk_anon finds its pages by that index. A new, never-written VMA "
        "now fills pages 4-7. Moving the pages back to 0 with MREMAP_FIXED, copy_vma tries "
        "vma_merge_copied_range first: the VMA at 4 has no anon_vma and its pgoff follows "
        "page 0's, so the copy merges into it (vma_expand gives it the moved VMA's anon_vma, "
        "the Case 1 merge of spec §3.3) and no new VMA is allocated. The page tables move "
        "under the rmap locks (the merged VMA precedes the source in rmap order), and the "
        "source at 24 is unmapped.",
        _mremap_setup, _mremap_act, check=_spaces_check),
    Scenario(
        "fork-child-no-merge", "A fork child cannot merge what its parent can",
        "Process 1 wrote to pages 0-3, then forked. Its child's copy of the VMA is linked to "
        "the parent's anon_vma and to one of its own (anon_vma_fork): a chain of two, which "
        "makes it a fork child. Both processes now map pages 4-7. In the child the new range "
        "would have to take the child VMA's anon_vma (Case 2 of spec §3.3), which is refused "
        "for a fork child, so it gets a VMA of its own; in the parent, whose chain is still "
        "singular, the same call merges. Nothing in /proc/PID/maps says why: only the "
        "anon_vma chain does.",
        _fork_setup, _fork_act, check=_spaces_check),
    Scenario(
        "mlock-split", "mlock() of part of a VMA splits it",
        "mlock() of two pages in the middle of an eight-page VMA: apply_vma_lock_flags calls "
        "mlock_fixup, which asks vma_modify_flags to give [2,4) the VM_LOCKED flag. No "
        "neighbour has that flag, so the VMA is split twice, like mprotect would do, and "
        "the middle piece gets VM_LOCKED; locked_vm grows by two pages. After mmap_lock is "
        "dropped the pages are faulted in (__mm_populate). munlock of the same range would "
        "merge the three pieces back.",
        _mlock_setup, lambda w, c: w.mlock(A + 2 * P, 2 * P), check=_locked_check),
]

_BY_NAME = {s.name: s for s in SCENARIOS}


def names() -> list:
    return [s.name for s in SCENARIOS]


def get(name: str) -> Scenario:
    try:
        return _BY_NAME[name]
    except KeyError:
        raise InputError(f"unknown scenario {name!r}; choose one of: " + ", ".join(names())) from None
