"""mmap_action: prepare, complete and finish, per kernel variant (mm/util.c, mm/memory.c).

Spec §3. `world.variant.completion` says where the rmap lock is dropped and in which
order the callbacks and the unmap run; other Variant fields say what each kernel has:
- baseline: prepare cannot fail and knows three action types; an I/O remap is completed as
  an I/O remap; finish unmaps while the caller still holds i_mmap_rwsem (self-deadlock,
  §6b); a failing success_hook returns an error with the mapping left in place (§6i).
- v3: finish drops the lock first; ->mapped runs afterwards in __mmap_region and drops the
  lock again when it fails (double unlock, §6a); success_hook as in the baseline.
- v4: ->mapped, success_hook, one unlock (maybe_rmap_unlock_action), do_munmap, error_hook.
- mainline: no hooks; check_mmap_action() refuses an invalid error_override, which replaces
  the error after do_munmap; in the compat path (is_compat) finish neither unmaps nor
  overrides.
"""

from .errno import Errno
from .instrument import call_hook, kernel_function
from .locking import i_mmap_unlock_write, mmap_assert_write_locked
from .mm_types import vma_desc_pages
from .uapi import PAGE_SHIFT, PAGE_SIZE
from .vm_flags import VMA_REMAP_FLAGS, VmFlags
from .vma_munmap import do_munmap


# --- setters a driver's mmap_prepare calls (include/linux/mm.h) ---------------------------

def mmap_action_remap(desc, start, start_pfn, size):
    """Ask for PFNs [start_pfn...) mapped at [start, start+size); copies desc.page_prot now.

    Mirrors include/linux/mm.h. The first version (whose prepare could not fail) WARNed
    here on a range outside the mapping; later ones fail it in prepare with -EFAULT.
    """
    if not desc.world.variant.action_prepare_can_fail and not _range_in_desc(desc, start, size):
        desc.world.emit("warn", "remap_range_warn")
    a = desc.action
    a.type = "MMAP_REMAP_PFN"
    a.remap = {"start": start, "start_pfn": start_pfn, "size": size, "pgprot": desc.page_prot}


def mmap_action_remap_full(desc, start_pfn):
    """mmap_action_remap over the whole mapping. (include/linux/mm.h)"""
    mmap_action_remap(desc, desc.start, start_pfn, desc.end - desc.start)


def mmap_action_ioremap(desc, start, start_pfn, size):
    """Like mmap_action_remap, for I/O memory (rewritten to a remap in prepare).

    Mirrors include/linux/mm.h.
    """
    mmap_action_remap(desc, start, start_pfn, size)
    desc.action.type = "MMAP_IO_REMAP_PFN"


def mmap_action_ioremap_full(desc, start_pfn):
    """mmap_action_ioremap over the whole mapping. (include/linux/mm.h)"""
    mmap_action_ioremap(desc, desc.start, start_pfn, desc.end - desc.start)


def mmap_action_simple_ioremap(desc, start_phys_addr, size):
    """Map a device's physical range; prepare computes the PFN (the vm_iomap_memory() equivalent).

    Mirrors include/linux/mm.h.
    """
    a = desc.action
    a.type = "MMAP_SIMPLE_IO_REMAP"
    a.simple_ioremap = {"start_phys_addr": start_phys_addr, "size": size}


def mmap_action_map_kernel_pages(desc, start, pages, nr_pages):
    """Insert nr_pages kernel pages at start (the vm_insert_pages() equivalent); records desc.pgoff.

    `pages` is the driver's page array, kept by reference as the kernel keeps the pointer;
    the model's drivers pass a range of page numbers, so a huge mapping costs no memory per
    page. Mirrors include/linux/mm.h.
    """
    a = desc.action
    a.type = "MMAP_MAP_KERNEL_PAGES"
    a.map_kernel = {"start": start, "pages": pages, "nr_pages": nr_pages, "pgoff": desc.pgoff}


def mmap_action_map_kernel_pages_full(desc, pages):
    """mmap_action_map_kernel_pages over the whole mapping. (include/linux/mm.h)"""
    mmap_action_map_kernel_pages(desc, desc.start, pages, vma_desc_pages(desc))


# --- prepare --------------------------------------------------------------------------------

def _range_in_desc(desc, start, size) -> bool:
    return desc.start <= start and start + size <= desc.end


@kernel_function("mm/memory.c")
def remap_pfn_range_prepare(desc) -> int:
    r = desc.action.remap
    world = desc.world
    cow = (desc.vm_flags & (VmFlags.VM_SHARED | VmFlags.VM_MAYWRITE)) == VmFlags.VM_MAYWRITE
    if not world.variant.action_prepare_can_fail:
        # The first version computed pgoff over the whole descriptor, so it could not fail.
        if cow:
            desc.pgoff = r["start_pfn"]
        desc.vm_flags |= VMA_REMAP_FLAGS
        world.emit("note", "remap_flags_set")
        return None
    if not _range_in_desc(desc, r["start"], r["size"]):
        world.emit("error", "remap_outside")
        return -Errno.EFAULT
    if cow:
        if r["start"] != desc.start or r["start"] + r["size"] != desc.end:
            world.emit("error", "remap_cow_partial")
            return -Errno.EINVAL
        desc.pgoff = r["start_pfn"]
    desc.vm_flags |= VMA_REMAP_FLAGS
    world.emit("note", "remap_flags_set")
    return 0


@kernel_function("mm/memory.c")
def simple_ioremap_prepare(desc) -> int:
    s = desc.action.simple_ioremap
    phys, size = s["start_phys_addr"], s["size"]
    if phys + size < phys or size == 0:
        return -Errno.EINVAL
    pages = (size + (phys & (PAGE_SIZE - 1)) + PAGE_SIZE - 1) >> PAGE_SHIFT
    if desc.pgoff > pages or vma_desc_pages(desc) > pages - desc.pgoff:
        desc.world.emit("error", "ioremap_too_big")
        return -Errno.EINVAL
    pfn = (phys >> PAGE_SHIFT) + desc.pgoff
    mmap_action_ioremap_full(desc, pfn)
    return io_remap_pfn_range_prepare(desc)


@kernel_function("mm/internal.h")
def io_remap_pfn_range_prepare(desc) -> int:
    """Prepare an I/O remap: from v3 on it becomes a plain MMAP_REMAP_PFN (the PFN translation
    and decrypted pgprot are the identity in the model); the first version kept the type
    and translated at completion."""
    err = remap_pfn_range_prepare(desc)
    if err or not desc.world.variant.io_remap_rewritten_in_prepare:
        return err
    desc.action.type = "MMAP_REMAP_PFN"
    return 0


@kernel_function("mm/memory.c")
def map_kernel_pages_prepare(desc) -> int:
    world = desc.world
    if not desc.vm_flags & VmFlags.VM_MIXEDMAP:
        # The kernel WARNs about PFNMAP only when it has to set MIXEDMAP itself.
        if desc.vm_flags & VmFlags.VM_PFNMAP:
            world.emit("warn", "kernel_pages_pfnmap")
        desc.vm_flags |= VmFlags.VM_MIXEDMAP
    mk = desc.action.map_kernel
    if not _range_in_desc(desc, mk["start"], mk["nr_pages"] * PAGE_SIZE):
        return -Errno.EFAULT
    return 0


def is_err_value(value) -> bool:
    """IS_ERR_VALUE(): a value in the errno range -4095..-1. (include/linux/err.h)"""
    return -4095 <= value <= -1


@kernel_function("mm/util.c")
def check_mmap_action(action) -> int:
    """mainline: an error_override must be 0 or a negative errno; anything else WARNs, -EINVAL."""
    override = action.error_override
    if override and not is_err_value(override):
        action.world.emit("warn", "error_override_invalid", value=override)
        return -Errno.EINVAL
    return 0


@kernel_function("mm/util.c")
def mmap_action_prepare(desc) -> int:
    """Validate the action and set the flags it implies, before any VMA exists (§3.1, §3.6).

    The first version's prepare returned nothing: it could not fail."""
    world = desc.world
    variant = world.variant
    t = desc.action.type
    if not world.config.mmu:
        if t != "MMAP_NOTHING":
            world.emit("warn", "nommu_prepare_unsupported", type=t)
        return 0 if variant.action_prepare_can_fail else None
    if variant.error_override:
        err = check_mmap_action(desc.action)
        if err:
            return err
    if t == "MMAP_NOTHING":
        return 0 if variant.action_prepare_can_fail else None
    if t == "MMAP_REMAP_PFN":
        return remap_pfn_range_prepare(desc)
    if t == "MMAP_IO_REMAP_PFN":
        return io_remap_pfn_range_prepare(desc)
    if t == "MMAP_SIMPLE_IO_REMAP":
        return simple_ioremap_prepare(desc)
    if t == "MMAP_MAP_KERNEL_PAGES":
        return map_kernel_pages_prepare(desc)
    world.emit("warn", "unknown_action", type=t)
    return -Errno.EINVAL


# --- complete -------------------------------------------------------------------------------

def _fill_ptes(vma, **what):
    """Fill the page tables for an action, or fail where a test armed "action_complete"."""
    world = vma.world
    err = world.faults.take_errno("action_complete")
    if err:
        world.emit("error", "fill_fail", errno=err, **what)
        return err
    world.emit("note", "fill_done", vma=vma.id, **what)
    return 0


@kernel_function("mm/memory.c")
def remap_pfn_range_complete(vma, action) -> int:
    """Fill the range with PFNs; a failure part-way zaps what was filled."""
    r = action.remap
    return _fill_ptes(vma, op="remap", start_pfn=r["start_pfn"], start=r["start"])


@kernel_function("mm/internal.h")
def io_remap_pfn_range_complete(vma, action) -> int:
    """The first version only: translate the I/O PFN and pgprot now, then remap (the model's
    translation is the identity)."""
    r = action.remap
    return _fill_ptes(vma, op="io_remap", start_pfn=r["start_pfn"], start=r["start"])


@kernel_function("mm/memory.c")
def map_kernel_pages_complete(vma, action) -> int:
    """Insert the driver's pages; a failure leaves the pages already inserted to the unmap."""
    return _fill_ptes(vma, op="kernel_pages", nr_pages=action.map_kernel["nr_pages"])


@kernel_function("mm/util.c")
def mmap_action_complete(vma, action, rmap_lock_held=False, is_compat=False) -> int:
    """Run the action on the new VMA, then finish (v3 passes rmap_lock_held; v4 reads the
    flag; mainline passes is_compat from the compat path)."""
    world = vma.world
    t = action.type
    if not world.config.mmu:
        err = 0
        if t != "MMAP_NOTHING":
            world.emit("warn", "nommu_complete_unsupported", type=t)
            err = -Errno.EINVAL
    elif t == "MMAP_NOTHING":
        err = 0
    elif t == "MMAP_REMAP_PFN":
        err = remap_pfn_range_complete(vma, action)
    elif t == "MMAP_MAP_KERNEL_PAGES":
        err = map_kernel_pages_complete(vma, action)
    elif t == "MMAP_IO_REMAP_PFN" and not world.variant.io_remap_rewritten_in_prepare:
        err = io_remap_pfn_range_complete(vma, action)
    else:
        world.emit("warn", "action_not_rewritten", type=t)
        err = -Errno.EINVAL
    return mmap_action_finish(vma, action, err, rmap_lock_held, is_compat)


@kernel_function("mm/util.c")
def call_vma_mapped(vma) -> int:
    """v4: call vm_ops->mapped once for a new mmap_prepare VMA; it may replace private_data."""
    return invoke_mapped(vma)


def invoke_mapped(vma, file=None) -> int:
    """Call vm_ops->mapped if set, letting it replace vm_private_data on success.

    Shared by v4's call_vma_mapped(), v3's call_mapped_hook() and __compat_vma_mapped()
    (which passes the descriptor's file rather than vm_file).
    """
    ops = vma.vm_ops
    if ops is None or ops.mapped is None:
        return 0
    ref = [vma.vm_private_data]
    err = call_hook(vma.world, "vm_ops->mapped", ops.mapped, vma.vm_start, vma.vm_end,
                    vma.vm_pgoff, file if file is not None else vma.vm_file, ref)
    if not err and ref[0] is not vma.vm_private_data:
        vma.vm_private_data = ref[0]
    return err


@kernel_function("mm/internal.h")
def maybe_rmap_unlock_action(vma, action):
    """v4: the one place the hidden VMA's rmap lock is dropped; clearing the flag makes it idempotent."""
    if not action.hide_from_rmap_until_complete:
        return
    world = vma.world
    if vma.vm_file is None:
        world.emit("warn", "hide_on_anon")
        action.hide_from_rmap_until_complete = False
        return
    vma.hidden = False
    i_mmap_unlock_write(vma.vm_file.f_mapping)
    action.hide_from_rmap_until_complete = False


def vma_setup_done(vma):
    """Model-only: the action and every hook that completes this VMA have run; an rmap walker
    may now meet it (spec kernel-rmap-and-tasks §5.7)."""
    vma.setup_pending = False


def _unmap_new_vma(vma, cause):
    """do_munmap() the VMA the action was for; `cause` says what failed (the trace says it).

    A kernel without an MMU has its own do_munmap (mm/nommu.c)."""
    world = vma.world
    world.emit("note", "unmap_new_vma", vma=vma.id, cause=cause)
    length = vma.pages() << PAGE_SHIFT
    if not world.config.mmu:
        from .nommu import do_munmap as nommu_do_munmap
        return nommu_do_munmap(vma.vm_mm, vma.vm_start, length)
    return do_munmap(vma.vm_mm, vma.vm_start, length)


@kernel_function("mm/internal.h", quiet=True)
def unmap_vma_locked(vma, cause="action"):
    """v3's helper: assert mmap_lock is write-held, then do_munmap the whole VMA (removed in v4)."""
    mmap_assert_write_locked(vma.vm_mm)
    return _unmap_new_vma(vma, cause)


def _apply_error_hook(vma, action, err):
    if action.error_hook is None:
        return err
    new = call_hook(vma.world, "error_hook", action.error_hook, err)
    if not new:
        vma.world.emit("warn", "error_hook_cleared")
    return new


@kernel_function("mm/util.c")
def mmap_action_finish(vma, action, err, rmap_lock_held=False, is_compat=False) -> int:
    completion = vma.world.variant.completion
    if completion == "mapped_then_unlock":
        return _finish_v4(vma, action, err, is_compat)
    if completion == "unlock_then_mapped":
        return _finish_v3(vma, action, err, rmap_lock_held)
    return _finish_baseline(vma, action, err)


def _finish_v4(vma, action, err, is_compat):
    """v4 and mainline mmap_action_finish (spec §3.3, §3.4).

    v4: ->mapped, success_hook, one rmap unlock, do_munmap, error_hook. Mainline has no
    hooks: after do_munmap it returns error_override if set; and when called from the compat
    path (is_compat) it returns the error straight after the unlock, leaving the cleanup to
    the outer .mmap caller. Mirrors mm/util.c.
    """
    world = vma.world
    cause = "action" if err else None
    if not err:
        err = call_vma_mapped(vma)
        cause = "mapped" if err else None
    if not err and world.variant.action_hooks and action.success_hook is not None:
        err = call_hook(world, "success_hook", action.success_hook, vma)
        cause = "success_hook" if err else None
    if not err:
        vma_setup_done(vma)
    maybe_rmap_unlock_action(vma, action)
    if not err:
        return 0
    if is_compat:
        world.emit("note", "compat_skip_unmap", cause=cause, errno=err)
        return err
    _unmap_new_vma(vma, cause)
    if world.variant.error_override:
        if action.error_override:
            world.emit("note", "error_overridden", errno=err, override=action.error_override)
            return action.error_override
        return err
    return _apply_error_hook(vma, action, err)


def _finish_v3(vma, action, err, rmap_lock_held):
    """v3 mmap_action_finish: unlock first; success_hook's result returned as is (spec §3.5).

    Mirrors mm/util.c.
    """
    if rmap_lock_held:
        vma.hidden = False
        i_mmap_unlock_write(vma.vm_file.f_mapping)
    if not err:
        if action.success_hook is not None:
            # v3 returns the hook's result directly: a failure leaves the mapping in place.
            return call_hook(vma.world, "success_hook", action.success_hook, vma)
        return 0
    unmap_vma_locked(vma, "action")
    return _apply_error_hook(vma, action, err)


def _finish_baseline(vma, action, err):
    """Baseline mmap_action_finish: do_munmap with the caller's rmap lock still held (spec §6b).

    Mirrors mm/util.c.
    """
    if err:
        # The caller (call_action_complete) still holds i_mmap_rwsem if the hide flag is set.
        _unmap_new_vma(vma, "action")
        return _apply_error_hook(vma, action, err)
    if action.success_hook is not None:
        err = call_hook(vma.world, "success_hook", action.success_hook, vma)
    vma_setup_done(vma)
    return err


@kernel_function("mm/vma.c")
def call_mapped_hook(map, vma) -> int:
    """v3's call_mapped_hook(): ->mapped after the action, and a second unlock on failure."""
    err = invoke_mapped(vma)
    if err:
        if map.hold_file_rmap_lock:
            i_mmap_unlock_write(vma.vm_file.f_mapping)
        unmap_vma_locked(vma, "mapped")
    else:
        vma_setup_done(vma)
    return err
