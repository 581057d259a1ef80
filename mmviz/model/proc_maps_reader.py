"""Reading /proc/PID/maps while other tasks run (fs/proc/task_mmu.c, 6.17+), spec §5.3.

The reader walks the VMA tree under RCU and read-locks one VMA at a time
(`lock_next_vma`). A VMA that another task has write-locked cannot be read-locked; only then
does the reader take mmap_lock for read — waiting for the writer — to lock that VMA, and it
goes on. Consecutive lines need not come from one instant.
"""

from .instrument import kernel_function
from .locking import mmap_read_lock, mmap_read_unlock, vma_end_read, vma_start_read
from .proc_maps import show_map_vma


@kernel_function("fs/proc/task_mmu.c", "simplified")
def lock_next_vma(mm, addr):
    """The first VMA ending above addr, read-locked; under mmap_lock if it is write-locked."""
    vma = mm.mm_mt.find_intersection(addr, mm.task_size)
    if vma is None:
        return None
    if vma_start_read(vma):
        return vma
    mmap_read_lock(mm)                          # lock_next_vma_under_mmap_lock()
    try:
        vma = mm.mm_mt.find_intersection(addr, mm.task_size)
        if vma is not None and not vma_start_read(vma):
            vma = None
        return vma
    finally:
        mmap_read_unlock(mm)


@kernel_function("fs/proc/task_mmu.c", "simplified")
def show_maps(mm) -> str:
    lines = []
    addr = 0
    while True:
        vma = lock_next_vma(mm, addr)
        if vma is None:
            break
        lines.append(show_map_vma(vma))
        mm.world.emit("note", "maps_line", vma=vma.id)
        addr = vma.vm_end
        vma_end_read(vma)
    return "".join(line + "\n" for line in lines)
