"""The mmap() system call down to mmap_region (arch/x86/kernel/sys_x86_64.c, mm/mmap.c, mm/util.c)."""

from .accounting import mlock_future_ok
from .errno import Errno
from .instrument import kernel_function
from .locking import mmap_assert_write_locked, mmap_write_lock, mmap_write_unlock
from .mm_types import FMODE_READ, FMODE_WRITE
from .mmap_region import mmap_region
from .uapi import (LEGACY_MAP_MASK, MAP_ANONYMOUS, MAP_FIXED, MAP_FIXED_NOREPLACE, MAP_LOCKED,
                   MAP_NONBLOCK, MAP_NORESERVE, MAP_POPULATE, MAP_PRIVATE, MAP_SHARED,
                   MAP_SHARED_VALIDATE, MAP_STACK, MAP_TYPE, PAGE_ALIGN, PAGE_MASK, PAGE_SHIFT,
                   PAGE_SIZE, PROT_EXEC, PROT_READ, PROT_WRITE, ULONG_MAX)
from .vm_flags import VmFlags

PMD_SIZE = 2 << 20


def calc_vm_prot_bits(prot) -> int:
    """PROT_* to VM_* (the bits share values; pkeys are not modelled). (include/linux/mman.h)"""
    return prot & (PROT_READ | PROT_WRITE | PROT_EXEC)   # VM_READ/WRITE/EXEC share the values


def calc_vm_flag_bits(file, flags) -> int:
    """MAP_* flags that become VM_* flags (MAP_STACK -> VM_NOHUGEPAGE). (include/linux/mman.h)"""
    bits = 0
    if flags & MAP_STACK:
        bits |= VmFlags.VM_NOHUGEPAGE
    if flags & MAP_LOCKED:
        bits |= VmFlags.VM_LOCKED
    return bits


@kernel_function("mm/mmap.c", "simplified")
def __get_unmapped_area(mm, file, addr, length, pgoff, flags) -> int:
    """Pick the address: MAP_FIXED as given; else the hint if free; else top-down first fit."""
    if length > mm.task_size:
        return -Errno.ENOMEM
    if not flags & MAP_FIXED:
        if file is None and addr == 0 and length % PMD_SIZE == 0:
            addr = unmapped_area_topdown(mm, length, PMD_SIZE)
        else:
            addr = _arch_get_unmapped_area_topdown(mm, addr, length)
    if addr < 0:
        return addr
    if addr > mm.task_size - length:
        return -Errno.ENOMEM
    if addr & ~PAGE_MASK:
        return -Errno.EINVAL
    return addr


def _arch_get_unmapped_area_topdown(mm, addr, length):
    world = mm.world
    if addr:
        addr = (addr + PAGE_SIZE - 1) & PAGE_MASK
        if (addr >= world.config.mmap_min_addr and addr <= mm.task_size - length
                and mm.mm_mt.find_intersection(addr, addr + length) is None):
            return addr
    return unmapped_area_topdown(mm, length, PAGE_SIZE)


def unmapped_area_topdown(mm, length, align):
    """The highest free gap below mmap_base that fits `length` at `align`; a linear walk down the gaps, where the kernel uses the maple tree's gap tracking.

    Mirrors mm/vma.c.
    """
    low = max(mm.world.config.mmap_min_addr, PAGE_SIZE)
    for gap_start, gap_end in mm.mm_mt.gaps(low, mm.mmap_base):
        start = (gap_end - length) & ~(align - 1)
        if start >= gap_start:
            return start
    return -Errno.ENOMEM


@kernel_function("mm/mmap.c")
def do_mmap(mm, file, addr, length, prot, flags, pgoff):
    """Validate, pick the address, compute the VM_* flags and call mmap_region; returns (ret, populate)."""
    world = mm.world
    mmap_assert_write_locked(mm)
    if not length:
        return -Errno.EINVAL, 0
    if flags & MAP_FIXED_NOREPLACE:
        flags |= MAP_FIXED
    if not flags & MAP_FIXED:
        addr &= PAGE_MASK & ULONG_MAX          # round_hint_to_min
        if addr and addr < world.config.mmap_min_addr:
            addr = world.config.mmap_min_addr
    length = PAGE_ALIGN(length)
    if not length:
        return -Errno.ENOMEM, 0
    if pgoff + (length >> PAGE_SHIFT) > ULONG_MAX:
        return -Errno.EOVERFLOW, 0
    if mm.map_count > world.config.max_map_count:
        world.emit("error", "map_count_limit")
        return -Errno.ENOMEM, 0
    vm_flags = (calc_vm_prot_bits(prot) | calc_vm_flag_bits(file, flags) | mm.def_flags
                | VmFlags.VM_MAYREAD | VmFlags.VM_MAYWRITE | VmFlags.VM_MAYEXEC)
    addr = __get_unmapped_area(mm, file, addr, length, pgoff, flags)
    if addr < 0:
        return addr, 0
    if flags & MAP_FIXED_NOREPLACE and mm.mm_mt.find_intersection(addr, addr + length):
        world.emit("error", "noreplace_exists")
        return -Errno.EEXIST, 0
    if flags & MAP_LOCKED:
        from .mlock import can_do_mlock
        if not can_do_mlock(mm):
            return -Errno.EPERM, 0
    if not mlock_future_ok(mm, vm_flags, length):
        world.emit("error", "memlock_limit", locked=mm.locked_vm + (length >> PAGE_SHIFT),
                   limit=world.config.rlimit_memlock_pages)
        return -Errno.EAGAIN, 0
    if file is not None:
        ino = file.f_inode
        if not file_mmap_ok(ino, pgoff, length):
            return -Errno.EOVERFLOW, 0
        mtype = flags & MAP_TYPE
        if mtype in (MAP_SHARED, MAP_SHARED_VALIDATE):
            if mtype == MAP_SHARED:
                flags &= LEGACY_MAP_MASK
            if flags & ~LEGACY_MAP_MASK:
                return -Errno.EOPNOTSUPP, 0
            if prot & PROT_WRITE and not file.f_mode & FMODE_WRITE:
                return -Errno.EACCES, 0
            vm_flags |= VmFlags.VM_SHARED | VmFlags.VM_MAYSHARE
            if not file.f_mode & FMODE_WRITE:
                vm_flags &= ~(VmFlags.VM_MAYWRITE | VmFlags.VM_SHARED)
        elif mtype != MAP_PRIVATE:
            return -Errno.EINVAL, 0
        if not file.f_mode & FMODE_READ:
            return -Errno.EACCES, 0
        if ino.noexec:
            if vm_flags & VmFlags.VM_EXEC:
                return -Errno.EPERM, 0
            vm_flags &= ~VmFlags.VM_MAYEXEC
        if file.f_op.mmap is None and file.f_op.mmap_prepare is None:
            return -Errno.ENODEV, 0
    else:
        mtype = flags & MAP_TYPE
        if mtype == MAP_SHARED:
            pgoff = 0
            vm_flags |= VmFlags.VM_SHARED | VmFlags.VM_MAYSHARE
        elif mtype == MAP_PRIVATE:
            pgoff = addr >> PAGE_SHIFT
        else:
            return -Errno.EINVAL, 0
    if flags & MAP_NORESERVE and world.config.overcommit_memory != 2:
        vm_flags |= VmFlags.VM_NORESERVE
    addr = mmap_region(mm, file, addr, length, vm_flags, pgoff)
    populate = 0
    if addr >= 0 and (vm_flags & VmFlags.VM_LOCKED
                      or (flags & (MAP_POPULATE | MAP_NONBLOCK)) == MAP_POPULATE):
        populate = length
    return addr, populate


def file_mmap_ok(ino, pgoff, length) -> bool:
    """Does [pgoff, pgoff + len) stay below the file's maximum size? (mm/mmap.c)"""
    maxsize = (1 << 63) - 1     # MAX_LFS_FILESIZE
    if length > maxsize:
        return False
    maxsize -= length
    return pgoff <= maxsize >> PAGE_SHIFT


@kernel_function("mm/util.c")
def vm_mmap_pgoff(mm, file, addr, length, prot, flags, pgoff) -> int:
    """Take mmap_lock for write around do_mmap, then populate if asked."""
    from .fault import mm_populate
    from .nommu import do_mmap as nommu_do_mmap
    mmap_write_lock(mm)
    if mm.world.config.mmu:
        ret, populate = do_mmap(mm, file, addr, length, prot, flags, pgoff)
    else:
        ret, populate = nommu_do_mmap(mm, file, addr, length, prot, flags, pgoff)
    mmap_write_unlock(mm)
    if populate:
        mm_populate(mm, ret, populate)
    return ret


@kernel_function("mm/mmap.c")
def ksys_mmap_pgoff(world, addr, length, prot, flags, fd, pgoff) -> int:
    f = None
    if not flags & MAP_ANONYMOUS:
        f = world.fget(fd)
        if f is None:
            return -Errno.EBADF
    return vm_mmap_pgoff(world.mm, f, addr, length, prot, flags, pgoff)
