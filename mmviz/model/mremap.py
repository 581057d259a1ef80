"""mremap(): shrink, grow in place, move (mm/mremap.c), spec §2, as Linux 6.18 does it.

The call is a `vma_remap_struct` threaded through check_mremap_params (no lock),
check_prep_vma (the VMA at addr), then either mremap_at (shrink / grow in place / grow by
moving) or mremap_to (MREMAP_FIXED or MREMAP_DONTUNMAP: unmap the destination, move).
A FIXED move of unchanged size may span several VMAs (remap_move, 6.17+). A move copies
the VMA (copy_vma: merge at the destination or a duplicate), moves the page table
entries, accounts, and unmaps the source (or, with DONTUNMAP, leaves it mapped and
empty).

Where 6.18 differs from the newest tree (spec §0): the map-count headroom is checked in
check_mremap_params (only for a new address: (map_count + 2) >= max - 3 fails) and in
prep_move_vma (map_count >= max - 3 fails); the newest code checks every call up front.
VM_RESERVED_THP (newest only) is not modelled, nor hugetlb, userfaultfd or mseal.
"""

from .accounting import (may_expand_vm, mlock_future_ok, security_vm_enough_memory_mm,
                         vm_acct_memory, vm_stat_account, vm_unacct_memory)
from .errno import Errno, is_err
from .fault import mm_populate
from .instrument import call_hook, kernel_function
from .locking import (i_mmap_lock_write, i_mmap_unlock_write, mmap_write_lock,
                      mmap_write_unlock, vma_start_write)
from .memory import linear_page_index, move_ptes
from .rmap import anon_vma_lock_write, anon_vma_unlock_write, unlink_anon_vmas
from .uapi import (MAP_FIXED, MAP_SHARED, MREMAP_DONTUNMAP, MREMAP_FIXED, MREMAP_MAYMOVE,
                   PAGE_ALIGN, PAGE_MASK, PAGE_SHIFT, ULONG_MAX)
from .vm_flags import VM_LOCKED_MASK, VmFlags
from .vma_copy import copy_vma
from .vma_merge import vma_iterator, vma_merge_extend
from .vma_munmap import do_munmap, do_vmi_munmap

MREMAP_INVALID = "INVALID"
MREMAP_NO_RESIZE = "NO_RESIZE"
MREMAP_SHRINK = "SHRINK"
MREMAP_EXPAND = "EXPAND"


class vma_remap_struct:
    """The vrm of mm/mremap.c: the request, the VMA it acts on, and what was decided."""

    __slots__ = ("mm", "addr", "old_len", "new_len", "flags", "new_addr", "vma", "delta",
                 "populate_expand", "remap_type", "mmap_locked", "charged")

    def __init__(self, mm, addr, old_len, new_len, flags, new_addr):
        self.mm = mm
        self.addr = addr
        self.old_len = old_len
        self.new_len = new_len
        self.flags = flags
        self.new_addr = new_addr
        self.vma = None
        self.delta = 0
        self.populate_expand = False
        self.remap_type = MREMAP_INVALID
        self.mmap_locked = False
        self.charged = 0

    @property
    def world(self):
        return self.mm.world



def vrm_implies_new_addr(vrm) -> bool:
    """FIXED and DONTUNMAP both take new_addr from the caller. (mm/mremap.c)"""
    return bool(vrm.flags & (MREMAP_FIXED | MREMAP_DONTUNMAP))


def vrm_overlaps(vrm) -> bool:
    """Do the old and the new range overlap? (mm/mremap.c)"""
    end_old = vrm.addr + vrm.old_len
    end_new = vrm.new_addr + vrm.new_len
    return end_old > vrm.new_addr and end_new > vrm.addr


def vrm_set_delta(vrm):
    """The absolute difference of the two lengths. (mm/mremap.c)"""
    vrm.delta = abs(vrm.new_len - vrm.old_len)


def vrm_remap_type(vrm) -> str:
    """NO_RESIZE, SHRINK or EXPAND. (mm/mremap.c)"""
    if vrm.old_len == vrm.new_len:
        return MREMAP_NO_RESIZE
    return MREMAP_SHRINK if vrm.old_len > vrm.new_len else MREMAP_EXPAND


def vrm_will_map_new(vrm) -> bool:
    """Will the call grow a mapping or place one at a new address? (mm/mremap.c)"""
    return vrm.remap_type == MREMAP_EXPAND or vrm_implies_new_addr(vrm)


def vrm_move_only(vrm) -> bool:
    """FIXED with unchanged size: a pure move, which may span VMAs. (mm/mremap.c)"""
    return bool(vrm.flags & MREMAP_FIXED) and vrm.old_len == vrm.new_len


@kernel_function("mm/mremap.c")
def check_mremap_params(vrm) -> int:
    """Checks before mmap_lock is taken, in the kernel's order: flags, alignment, lengths,
    and for a new address its range, alignment, MAYMOVE, DONTUNMAP's fixed size, the
    overlap, and (6.18) the map-count headroom."""
    flags = vrm.flags
    if flags & ~(MREMAP_FIXED | MREMAP_MAYMOVE | MREMAP_DONTUNMAP):
        return -Errno.EINVAL
    if vrm.addr & ~PAGE_MASK:
        return -Errno.EINVAL
    if not vrm.new_len:
        return -Errno.EINVAL
    task_size = vrm.mm.task_size
    if vrm.new_len > task_size:
        return -Errno.EINVAL
    if not vrm_implies_new_addr(vrm):
        return 0
    if vrm.new_addr > task_size - vrm.new_len:
        return -Errno.EINVAL
    if vrm.new_addr & ~PAGE_MASK:
        return -Errno.EINVAL
    if not flags & MREMAP_MAYMOVE:
        return -Errno.EINVAL
    if flags & MREMAP_DONTUNMAP and vrm.old_len != vrm.new_len:
        return -Errno.EINVAL
    if vrm_overlaps(vrm):
        return -Errno.EINVAL
    # Two unmaps (destination, shrink) may split two VMAs, and move_vma() then needs
    # four more maps of headroom: 6.18 checks (map_count + 2) against max - 3 here.
    if vrm.mm.map_count + 2 >= vrm.world.config.max_map_count - 3:
        vrm.world.emit("error", "mremap_map_count")
        return -Errno.ENOMEM
    return 0


@kernel_function("mm/mremap.c")
def check_prep_vma(vrm) -> int:
    """Check the VMA at addr against the request, in the kernel's order (spec §2.2)."""
    vma = vrm.vma
    mm = vrm.mm
    addr = vrm.addr
    if vma is None:
        return -Errno.EFAULT
    vrm_set_delta(vrm)
    vrm.remap_type = vrm_remap_type(vrm)
    if not vrm_implies_new_addr(vrm):
        vrm.new_addr = addr
    if not vrm_will_map_new(vrm):
        return 0
    old_len, new_len = vrm.old_len, vrm.new_len
    flags = vma.vm_flags
    if not old_len and not flags & (VmFlags.VM_SHARED | VmFlags.VM_MAYSHARE):
        vrm.world.emit("warn", "mremap_duplicate_private")
        return -Errno.EINVAL
    if vrm.flags & MREMAP_DONTUNMAP and flags & (VmFlags.VM_DONTEXPAND | VmFlags.VM_PFNMAP):
        return -Errno.EINVAL
    if vrm.remap_type == MREMAP_SHRINK:
        old_len = new_len     # a shrink may unmap across VMA boundaries
    if old_len > vma.vm_end - addr:
        return -Errno.EFAULT
    if new_len == old_len:
        return 0
    if flags & VmFlags.VM_LOCKED:
        vrm.populate_expand = True
    pgoff = linear_page_index(vma, addr)
    if pgoff + (new_len >> PAGE_SHIFT) > ULONG_MAX:
        return -Errno.EINVAL
    if flags & (VmFlags.VM_DONTEXPAND | VmFlags.VM_PFNMAP):
        return -Errno.EFAULT
    if not mlock_future_ok(mm, flags & VmFlags.VM_LOCKED, vrm.delta):
        vrm.world.emit("error", "memlock_limit", locked=mm.locked_vm + (vrm.delta >> PAGE_SHIFT),
                       limit=vrm.world.config.rlimit_memlock_pages)
        return -Errno.EAGAIN
    if not may_expand_vm(mm, flags, vrm.delta >> PAGE_SHIFT):
        return -Errno.ENOMEM
    return 0


@kernel_function("mm/mremap.c", quiet=True)
def vrm_calc_charge(vrm) -> bool:
    """Charge what the move adds if the VMA is accounted: new_len for DONTUNMAP (the old
    VMA stays), else the growth."""
    vrm.charged = 0
    if vrm.vma.vm_flags & VmFlags.VM_ACCOUNT:
        pages = (vrm.new_len if vrm.flags & MREMAP_DONTUNMAP else vrm.delta) >> PAGE_SHIFT
        if security_vm_enough_memory_mm(vrm.mm, pages):
            return False
        vrm.charged = pages
    return True


def vrm_uncharge(vrm):
    """Give back what vrm_calc_charge charged. (mm/mremap.c)"""
    vm_unacct_memory(vrm.world, vrm.charged)
    vrm.charged = 0


def vrm_stat_account(vrm, nbytes):
    """total_vm and friends grow by nbytes; locked_vm too for a locked VMA. (mm/mremap.c)"""
    pages = nbytes >> PAGE_SHIFT
    mm = vrm.mm
    vm_stat_account(mm, vrm.vma.vm_flags, pages)
    if vrm.vma.vm_flags & VmFlags.VM_LOCKED:
        mm.locked_vm += pages


@kernel_function("mm/mremap.c")
def prep_move_vma(vrm) -> int:
    """Before copying: map-count headroom for the splits to come (6.18: map_count must be
    below max - 3), and ->may_split at both ends of the moved range."""
    vma = vrm.vma
    if vrm.mm.map_count >= vrm.world.config.max_map_count - 3:
        vrm.world.emit("error", "mremap_map_count")
        return -Errno.ENOMEM
    ops = vma.vm_ops
    if ops is not None and ops.may_split is not None:
        err = 0
        if vma.vm_start != vrm.addr:
            err = call_hook(vrm.world, "vm_ops->may_split", ops.may_split, vma, vrm.addr)
        if not err and vma.vm_end != vrm.addr + vrm.old_len:
            err = call_hook(vrm.world, "vm_ops->may_split", ops.may_split, vma,
                            vrm.addr + vrm.old_len)
        if err:
            return err
    return 0


def take_rmap_locks(vma):
    """The file rmap lock, then the anon_vma lock (mm/rmap.c order). (mm/mremap.c)"""
    if vma.vm_file is not None:
        i_mmap_lock_write(vma.vm_file.f_mapping)
    if vma.anon_vma is not None:
        anon_vma_lock_write(vma.anon_vma)


def drop_rmap_locks(vma):
    """Release what take_rmap_locks took, in reverse. (mm/mremap.c)"""
    if vma.anon_vma is not None:
        anon_vma_unlock_write(vma.anon_vma)
    if vma.vm_file is not None:
        i_mmap_unlock_write(vma.vm_file.f_mapping)


@kernel_function("mm/mremap.c", "simplified")
def move_page_tables(old, old_addr, new, new_addr, length, need_rmap_locks) -> int:
    """Move the page table entries. With need_rmap_locks (the copy sorts before the source
    in rmap order, so a walker could miss both) the rmap locks are held meanwhile."""
    if need_rmap_locks:
        take_rmap_locks(old)
    moved = move_ptes(old.vm_mm, old_addr, new_addr, length)
    if need_rmap_locks:
        drop_rmap_locks(old)
    old.world.emit("note", "ptes_moved", old=old.id, new=new.id, old_addr=old_addr,
                   new_addr=new_addr, length=length, rmap_locks=need_rmap_locks)
    return moved


@kernel_function("mm/mremap.c")
def copy_vma_and_data(vrm):
    """Create the destination VMA and move the pages; returns (err, new_vma)."""
    vma = vrm.vma
    new_pgoff = linear_page_index(vma, vrm.addr)
    new_vma, vma, need_rmap_locks = copy_vma(vma, vrm.new_addr, vrm.new_len, new_pgoff)
    if new_vma is None:
        vrm_uncharge(vrm)
        return -Errno.ENOMEM, None
    vrm.vma = vma
    move_page_tables(vma, vrm.addr, new_vma, vrm.new_addr, vrm.old_len, need_rmap_locks)
    return 0, new_vma


@kernel_function("mm/mremap.c")
def dontunmap_complete(vrm, new_vma):
    """DONTUNMAP leaves the old VMA mapped but empty: it loses VM_LOCKED (locked_vm is not
    reduced: the over-count of spec §2.9, reproduced) and, if moved whole, its anon_vmas."""
    vma = vrm.vma
    start, end = vrm.addr, vrm.addr + vrm.old_len
    if vma.vm_flags & VmFlags.VM_LOCKED:
        # Every page of the old VMA stops being locked without leaving locked_vm.
        vrm.mm.locked_vm_leaked += vma.pages()
        vrm.world.emit("warn", "dontunmap_locked_vm", vma=vma.id, pages=vma.pages())
    vma_start_write(vma)
    vma.vm_flags &= ~VM_LOCKED_MASK
    if new_vma is not vma and start == vma.vm_start and end == vma.vm_end:
        unlink_anon_vmas(vma)


@kernel_function("mm/mremap.c")
def unmap_source_vma(vrm):
    """Unmap the source range. VM_ACCOUNT is cleared first (the move already charged what
    it had to) and set again on the pieces left before and after the hole."""
    mm = vrm.mm
    addr, length = vrm.addr, vrm.old_len
    vma = vrm.vma
    accountable_move = bool(vma.vm_flags & VmFlags.VM_ACCOUNT) and not vrm.flags & MREMAP_DONTUNMAP
    vm_start = vm_end = 0
    if accountable_move:
        vma_start_write(vma)
        vma.vm_flags &= ~VmFlags.VM_ACCOUNT
        vm_start, vm_end = vma.vm_start, vma.vm_end
    err = do_vmi_munmap(vma_iterator(mm, addr), mm, addr, length)
    vrm.vma = None
    if err:
        vm_acct_memory(vrm.world, length >> PAGE_SHIFT)
        vrm.world.emit("warn", "mremap_unmap_failed", errno=err)
        return
    if accountable_move:
        end = addr + length
        tree = mm.mm_mt
        for piece in ((tree.prev_before(addr) if vm_start < addr else None),
                      (tree.next_from(end) if vm_end > end else None)):
            if piece is not None:
                vma_start_write(piece)
                piece.vm_flags |= VmFlags.VM_ACCOUNT


@kernel_function("mm/mremap.c")
def move_vma(vrm) -> int:
    """Move (and maybe resize) the range to vrm.new_addr: copy the VMA, move the pages,
    account, then unmap the source or (DONTUNMAP) empty it."""
    err = prep_move_vma(vrm)
    if err:
        return err
    if not vrm_calc_charge(vrm):
        return -Errno.ENOMEM
    vma_start_write(vrm.vma)
    err, new_vma = copy_vma_and_data(vrm)
    if err and new_vma is None:
        return err
    vrm_stat_account(vrm, vrm.new_len)
    if vrm.charged and vrm.remap_type == MREMAP_SHRINK:
        # mremap_to() shrank first, but vrm_calc_charge() still charged the size
        # difference: pages no VMA owns, charged for good (measured on 6.18.44: 1000
        # FIXED shrink-moves of 512 pages raised Committed_AS by 2000 MB). Reproduced.
        vrm.world.commit_leaked += vrm.charged
        vrm.world.emit("warn", "mremap_shrink_overcharge", pages=vrm.charged)
    if not err and vrm.flags & MREMAP_DONTUNMAP:
        dontunmap_complete(vrm, new_vma)
    else:
        unmap_source_vma(vrm)
    vrm.world.emit("vma", "mremap_moved", vma=new_vma.id, start=vrm.new_addr,
                   end=vrm.new_addr + vrm.new_len)
    return err or vrm.new_addr


@kernel_function("mm/mremap.c")
def shrink_vma(vrm, drop_lock: bool) -> int:
    """Unmap [addr + new_len, addr + old_len): the tail may span other VMAs."""
    mm = vrm.mm
    start = vrm.addr + vrm.new_len
    res = do_vmi_munmap(vma_iterator(mm, start), mm, start, vrm.delta)
    vrm.vma = None
    if res:
        return res
    if drop_lock:
        mmap_write_unlock(mm)
        vrm.mmap_locked = False
    else:
        vrm.vma = mm.mm_mt.find(vrm.addr)
        if vrm.vma is None:
            return -Errno.EFAULT
    return 0


@kernel_function("mm/mremap.c", quiet=True)
def vrm_set_new_addr(vrm) -> int:
    """Ask get_unmapped_area for the destination (MAP_FIXED for MREMAP_FIXED; new_addr is
    only a hint for DONTUNMAP alone, and 0 for a plain MAYMOVE)."""
    from .do_mmap import __get_unmapped_area
    vma = vrm.vma
    pgoff = linear_page_index(vma, vrm.addr)
    hint = vrm.new_addr if vrm_implies_new_addr(vrm) else 0
    map_flags = (MAP_FIXED if vrm.flags & MREMAP_FIXED else 0) | (
        MAP_SHARED if vma.vm_flags & VmFlags.VM_MAYSHARE else 0)
    res = __get_unmapped_area(vrm.mm, vma.vm_file, hint, vrm.new_len, pgoff, map_flags)
    if is_err(res):
        return res
    vrm.new_addr = res
    return 0


@kernel_function("mm/mremap.c")
def mremap_to(vrm) -> int:
    """FIXED or DONTUNMAP: unmap the destination first (FIXED), find the VMA again, shrink
    first if shrinking, then move."""
    mm = vrm.mm
    if vrm.flags & MREMAP_FIXED:
        err = do_munmap(mm, vrm.new_addr, vrm.new_len)
        vrm.vma = None
        if err:
            return err
        vrm.vma = mm.mm_mt.find(vrm.addr)
        if vrm.vma is None:
            return -Errno.EFAULT
    if vrm.remap_type == MREMAP_SHRINK:
        err = shrink_vma(vrm, False)
        if err:
            return err
        vrm.old_len = vrm.new_len
    if vrm.flags & MREMAP_DONTUNMAP:
        if not may_expand_vm(mm, vrm.vma.vm_flags, vrm.old_len >> PAGE_SHIFT):
            return -Errno.ENOMEM
    err = vrm_set_new_addr(vrm)
    if err:
        return err
    return move_vma(vrm)


def vma_expandable(vma, delta) -> bool:
    """Is [vm_end, vm_end + delta) free and a valid place to grow into? (mm/mremap.c)"""
    from .do_mmap import __get_unmapped_area
    end = vma.vm_end + delta
    if end > ULONG_MAX:
        return False
    if vma.vm_mm.mm_mt.find_intersection(vma.vm_end, end) is not None:
        return False
    return not is_err(__get_unmapped_area(vma.vm_mm, None, vma.vm_start, end - vma.vm_start,
                                          0, MAP_FIXED))


def vrm_can_expand_in_place(vrm) -> bool:
    """The range ends where its VMA ends, and the VMA can grow. (mm/mremap.c)"""
    if vrm.vma.vm_end - vrm.addr != vrm.old_len:
        return False
    return vma_expandable(vrm.vma, vrm.delta)


@kernel_function("mm/mremap.c")
def expand_vma_in_place(vrm) -> int:
    """Charge the growth and extend the VMA (vma_merge_extend: it may merge with next)."""
    vma = vrm.vma
    if not vrm_calc_charge(vrm):
        return -Errno.ENOMEM
    vma = vma_merge_extend(vma_iterator(vrm.mm, vma.vm_end), vma, vrm.delta)
    if vma is None:
        vrm_uncharge(vrm)
        return -Errno.ENOMEM
    vrm.vma = vma
    vrm_stat_account(vrm, vrm.delta)
    return 0


@kernel_function("mm/mremap.c")
def expand_vma(vrm) -> int:
    """Grow in place if possible, else move (with MAYMOVE) or fail with -ENOMEM."""
    if vrm_can_expand_in_place(vrm):
        err = expand_vma_in_place(vrm)
        if err:
            return err
        return vrm.addr
    if not vrm.flags & MREMAP_MAYMOVE:
        return -Errno.ENOMEM
    err = vrm_set_new_addr(vrm)
    if err:
        return err
    return move_vma(vrm)


@kernel_function("mm/mremap.c")
def mremap_at(vrm) -> int:
    """No new address: same size is a no-op, a shrink unmaps the tail, growth expands."""
    if vrm.remap_type == MREMAP_NO_RESIZE:
        return vrm.addr
    if vrm.remap_type == MREMAP_SHRINK:
        res = shrink_vma(vrm, True)
        if res:
            return res
        return vrm.addr
    return expand_vma(vrm)


def vma_multi_allowed(vma) -> bool:
    """May this VMA be moved as one of several? Not if its file places mappings itself
    (a driver's get_unmapped_area), which could ignore MREMAP_FIXED. (mm/mremap.c)"""
    f = vma.vm_file
    return f is None or f.f_op.get_unmapped_area is None or f.f_op.is_shmem


@kernel_function("mm/mremap.c")
def remap_move(vrm) -> int:
    """A FIXED move of unchanged size over every VMA in [addr, addr + old_len): each is
    moved (split as needed) keeping the gaps between them; a gap at the start is -EFAULT,
    and an error stops the walk with the earlier VMAs already moved."""
    mm = vrm.mm
    start, end = vrm.addr, vrm.addr + vrm.old_len
    target_addr = vrm.new_addr
    res = -Errno.EFAULT
    seen = False
    last_end = 0
    cursor = start
    while cursor < end:
        vma = mm.mm_mt.find_intersection(cursor, end)
        if vma is None:
            break
        addr = max(vma.vm_start, start)
        length = min(end, vma.vm_end) - addr
        if not seen and start < vma.vm_start:
            return -Errno.EFAULT
        offset = vma.vm_start - last_end if seen else 0
        last_end = vma.vm_end
        vrm.vma = vma
        vrm.addr = addr
        vrm.new_addr = target_addr + offset
        vrm.old_len = vrm.new_len = length
        multi = vma_multi_allowed(vma)
        if not multi and (seen or vma.vm_end < end):
            return -Errno.EFAULT
        res_vma = check_prep_vma(vrm)
        if not res_vma:
            res_vma = mremap_to(vrm)
        if is_err(res_vma):
            return res_vma
        if not seen:
            res = res_vma
        seen = True
        target_addr = res_vma + vrm.new_len
        cursor = last_end
    return res


@kernel_function("mm/mremap.c")
def do_mremap(vrm) -> int:
    """mremap(2): align the lengths, check, lock, dispatch; populate a locked VMA's growth
    after unlocking."""
    mm = vrm.mm
    vrm.old_len = PAGE_ALIGN(vrm.old_len)
    vrm.new_len = PAGE_ALIGN(vrm.new_len)
    res = check_mremap_params(vrm)
    if res:
        return res
    mmap_write_lock(mm)
    vrm.mmap_locked = True
    try:
        if vrm_move_only(vrm):
            res = remap_move(vrm)
        else:
            vrm.vma = mm.mm_mt.find(vrm.addr)
            res = check_prep_vma(vrm)
            if not res:
                res = mremap_to(vrm) if vrm_implies_new_addr(vrm) else mremap_at(vrm)
    finally:
        if vrm.mmap_locked:
            mmap_write_unlock(mm)
    if not is_err(res) and vrm.populate_expand:
        mm_populate(mm, vrm.new_addr + vrm.old_len, vrm.delta)
    return res
