"""Allocating, copying, freeing and splitting VMAs (mm/vma_init.c, mm/vma.c)."""

from .errno import Errno
from .instrument import call_hook, kernel_function
from .locking import vma_start_write
from .file_ops import get_file
from .rmap import anon_vma_clone
from .vma_prepare import vma_complete, vma_prepare, vma_prepare_state
from .uapi import PAGE_SHIFT


@kernel_function("mm/vma_init.c", "simplified", quiet=True)
def vm_area_alloc(mm):
    """Allocate an empty VMA, or None when allocation failure is injected (no slab here)."""
    world = mm.world
    if world.faults.take("alloc"):
        world.emit("error", "alloc_fail")
        return None
    return world.new_vma(mm)


@kernel_function("mm/vma_init.c", "simplified", quiet=True)
def vm_area_free(vma):
    """Free a VMA that never was, or no longer is, in the tree (the slab is not modelled)."""
    vma.freed = True


@kernel_function("mm/vma_init.c", quiet=True)
def vm_area_dup(vma, mm=None):
    """Copy a VMA's fields into a freshly allocated one (split, mremap, fork). The copy
    starts detached with an empty anon_vma chain: the caller links it (anon_vma_clone or
    anon_vma_fork). `mm` is the address space the copy belongs to (fork's child; the
    kernel sets vm_mm after the copy)."""
    new = vm_area_alloc(vma.vm_mm if mm is None else mm)
    if new is None:
        return None
    for field in ("vm_start", "vm_end", "vm_pgoff", "vm_file", "vm_flags", "vm_page_prot",
                  "anon_vma", "vm_ops", "vm_private_data", "vm_policy", "anon_name",
                  "vm_userfaultfd_ctx"):
        setattr(new, field, getattr(vma, field))
    return new


@kernel_function("mm/vma.c")
def __split_vma(vmi, vma, addr, new_below: bool) -> int:
    """Split vma at addr; the new VMA takes the part below addr if new_below, else above it."""
    world = vma.world
    mm = vma.vm_mm
    if vma.vm_ops is not None and vma.vm_ops.may_split is not None:
        err = call_hook(world, "vm_ops->may_split", vma.vm_ops.may_split, vma, addr)
        if err:
            return err
    new = vm_area_dup(vma)
    if new is None:
        return -Errno.ENOMEM
    if new_below:
        new.vm_end = addr
    else:
        new.vm_start = addr
        new.vm_pgoff += (addr - vma.vm_start) >> PAGE_SHIFT
    if world.faults.take("prealloc"):
        world.emit("error", "prealloc_fail_split")
        vm_area_free(new)
        return -Errno.ENOMEM
    if vma.anon_vma_chain:      # for an unfaulted VMA the kernel's call does nothing
        anon_vma_clone(new, vma)
    if new.vm_file is not None:
        get_file(new.vm_file)
    if new.vm_ops is not None and new.vm_ops.open is not None:
        call_hook(world, "vm_ops->open", new.vm_ops.open, new)
    vma_start_write(vma)
    vma_start_write(new)
    vp = vma_prepare_state(vma, vma.vm_file.f_mapping if vma.vm_file is not None else None,
                           insert=new)
    vma_prepare(vp)
    if new_below:
        vma.vm_pgoff += (addr - vma.vm_start) >> PAGE_SHIFT
        vma.vm_start = addr
    else:
        vma.vm_end = addr
    new.vm_refcnt = 1
    mm.mm_mt.store(new)
    mm.map_count += 1
    vma_complete(vp, mm)
    low, high = (new, vma) if new_below else (vma, new)
    world.emit("vma", "split", vma=new.id, addr=addr, low=low.id, low_start=low.vm_start,
               low_end=low.vm_end, high=high.id, high_start=high.vm_start, high_end=high.vm_end)
    vmi.index = vma.vm_start if new_below else new.vm_start
    return 0


@kernel_function("mm/vma.c")
def split_vma(vmi, vma, addr, new_below: bool) -> int:
    """__split_vma, refused at the map_count limit."""
    if vma.vm_mm.map_count >= vma.world.config.max_map_count:
        vma.world.emit("error", "split_limit")
        return -Errno.ENOMEM
    return __split_vma(vmi, vma, addr, new_below)
