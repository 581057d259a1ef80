"""copy_vma() and vma_link(): the VMA an mremap move creates at its destination (mm/vma.c).

The copy first tries to merge into a neighbour at the destination
(vma_merge_copied_range, spec §2.5); otherwise it is a duplicate of the source, linked to
the same anon_vmas (anon_vma_clone) and inserted after it in the file rmap, so an rmap
walk never misses both the old and the new page table entries.
"""

from .errno import Errno
from .file_ops import fput, get_file, vma_link_file
from .instrument import call_hook, kernel_function
from .locking import vma_start_write
from .mm_types import vma_is_anonymous
from .rmap import anon_vma_clone, unlink_anon_vmas
from .uapi import PAGE_SHIFT
from .vma_merge import VMG_VMA_STATE, vma_iterator, vma_merge_copied_range, vma_set_range
from .vma_munmap import vma_close
from .vma_split import vm_area_dup, vm_area_free


@kernel_function("mm/vma.c", "simplified")
def vma_link(mm, vma) -> int:
    """Insert a new VMA into the tree (write-locked) and its file's i_mmap."""
    world = mm.world
    if world.faults.take("prealloc"):
        world.emit("error", "prealloc_fail_new")
        return -Errno.ENOMEM
    vma_start_write(vma)
    vma.vm_refcnt = 1
    mm.mm_mt.store(vma)
    vma_link_file(vma, False)
    mm.map_count += 1
    world.emit("vma", "vma_stored", vma=vma.id, start=vma.vm_start, end=vma.vm_end)
    return 0


@kernel_function("mm/vma.c")
def copy_vma(vma, addr, length, pgoff):
    """The destination VMA of an mremap move: (new_vma, source, need_rmap_locks), or
    (None, source, False) when allocation fails. An anonymous VMA that never had a page
    gets pgoff = addr >> PAGE_SHIFT, so that it can merge at its new place; a faulted one
    keeps its pgoff, which its pages' rmap index depends on. The source may merge into
    the destination VMA itself (only an unfaulted one); it is then returned as source."""
    world = vma.world
    mm = vma.vm_mm
    vma_start = vma.vm_start
    faulted = True
    vmi = vma_iterator(mm, addr)
    vmg = VMG_VMA_STATE(vmi, None, vma, addr, addr + length)
    if vma_is_anonymous(vma) and vma.anon_vma is None:
        pgoff = addr >> PAGE_SHIFT
        faulted = False
    tree = mm.mm_mt
    vmg.prev = tree.prev_before(addr)
    if tree.find_intersection(addr, addr + length) is not None:
        return None, vma, False           # "should never get here"
    vmg.pgoff = pgoff
    vmg.next = tree.next_from(addr)
    new_vma = vma_merge_copied_range(vmg)
    if new_vma is not None:
        if new_vma.vm_start <= vma_start < new_vma.vm_end:
            if faulted:
                world.emit("warn", "copy_vma_self_merge_faulted", vma=new_vma.id)
            vma = new_vma
            world.emit("note", "copy_vma_merged_self", vma=new_vma.id)
        world.emit("note", "copy_vma_merged", vma=new_vma.id, start=new_vma.vm_start,
                   end=new_vma.vm_end)
        return new_vma, vma, new_vma.vm_pgoff <= vma.vm_pgoff
    new_vma = vm_area_dup(vma)
    if new_vma is None:
        return None, vma, False
    vma_set_range(new_vma, addr, addr + length, pgoff)
    if vma.anon_vma_chain:      # for an unfaulted VMA the kernel's call does nothing
        anon_vma_clone(new_vma, vma)
    if new_vma.vm_file is not None:
        get_file(new_vma.vm_file)
    if new_vma.vm_ops is not None and new_vma.vm_ops.open is not None:
        call_hook(world, "vm_ops->open", new_vma.vm_ops.open, new_vma)
    if vma_link(mm, new_vma):
        vma_close(new_vma)              # the open above is undone (out_vma_link)
        if new_vma.vm_file is not None:
            fput(new_vma.vm_file)
        unlink_anon_vmas(new_vma)
        vm_area_free(new_vma)
        return None, vma, False
    world.emit("note", "copy_vma_new", vma=new_vma.id, src=vma.id, pgoff=pgoff)
    return new_vma, vma, False
