"""validate_mm(): the invariants of spec §8, checked on a whole world (mm/vma.c validate_mm)."""

from .errors import ModelBug
from .uapi import PAGE_SIZE


def validate_mm(world, in_flight: bool = False) -> None:
    """Raise ModelBug naming the first broken invariant.

    in_flight relaxes the checks that only hold between operations (map_count, detached
    VMAs still in the tree, the rmap window between store and link) so that a recorder
    can validate after every event.
    """
    mm = world.mm
    prev_end = 0
    count = 0
    for vma in mm.mm_mt:
        if vma.vm_start >= vma.vm_end:
            raise ModelBug(f"{vma!r} is empty or inverted")
        if vma.vm_start % PAGE_SIZE or vma.vm_end % PAGE_SIZE:
            raise ModelBug(f"{vma!r} is not page aligned")
        if vma.vm_start < prev_end:
            raise ModelBug(f"{vma!r} overlaps the VMA before it")
        prev_end = vma.vm_end
        count += 1
        if in_flight:
            continue
        if vma.vm_refcnt == 0:
            raise ModelBug(f"{vma!r} is in the tree but marked detached")
        f = vma.vm_file
        if f is not None and vma.id not in f.f_mapping.i_mmap:
            raise ModelBug(f"{vma!r} maps {f.label} but is not in its i_mmap")
        if vma.hidden:
            raise ModelBug(f"{vma!r} is still hidden from the rmap after the call")
    if in_flight:
        return
    if count != mm.map_count and not world.corruption:
        # With world.corruption set, the modelled kernel itself broke map_count (spec §6e).
        raise ModelBug(f"map_count is {mm.map_count} but the tree holds {count} VMAs")
    attached = {v.id for v in mm.mm_mt}
    for f in world.all_files():
        for vid in f.f_mapping.i_mmap:
            if vid not in attached:
                raise ModelBug(f"i_mmap of {f.label} holds vma#{vid}, which is not attached")
        if f.f_count < 0:
            raise ModelBug(f"{f.label} has a negative reference count")
    if not world.hung:
        for lock in world.held_locks:
            raise ModelBug(f"{lock.name} is still held between system calls")
        if mm.vma_write_locked or mm.mm_lock_seq % 2:
            raise ModelBug("a per-VMA write lock outlived mmap_lock")
