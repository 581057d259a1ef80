"""Locks as model objects with a lockdep-style checker (kernel/locking/rwsem.c, mm/mmap_lock.c).

The model runs one task, so a second write acquisition of a lock it already holds can
never succeed: the checker reports it and the task is declared hung (TaskHung). Releasing
a lock that is not held is reported and otherwise ignored, as the kernel would carry on
with a corrupted count. Per-VMA write locks follow spec §2.11: sequence numbers, released
all at once by mmap_write_unlock.
"""

from .errors import TaskHung
from .instrument import kernel_function


class RwSem:
    """A reader/writer semaphore: non-recursive, owner is the one modelled task."""

    __slots__ = ("name", "kind", "writer", "readers")

    def __init__(self, name: str, kind: str):
        self.name = name
        self.kind = kind          # "mmap_lock", "i_mmap" or "anon_vma"
        self.writer = False
        self.readers = 0

    @property
    def held(self) -> bool:
        return self.writer or self.readers > 0

    def __repr__(self):
        return f"<rwsem {self.name} {'W' if self.writer else ('R' if self.readers else '-')}>"


def _violation(world, kind, lock, message):
    world.report_violation(kind, lock.name, message)


def down_write(world, sem: RwSem, fn: str):
    """Take sem for write; a second acquisition by this task is a self-deadlock.

    Mirrors kernel/locking/rwsem.c.
    """
    if sem.writer or sem.readers:
        held = "write" if sem.writer else "read"
        _violation(world, "deadlock", sem,
                   f"possible recursive locking detected: {fn}() tries to take {sem.name} for "
                   f"write but this task already holds it for {held}; the task sleeps forever")
        raise TaskHung(f"self-deadlock in {fn}(): {sem.name} is already held by this task")
    sem.writer = True
    world.held_locks.append(sem)
    world.emit("lock", fn, f"{fn} takes {sem.name} for write", lock=sem.name, mode="write")


def up_write(world, sem: RwSem, fn: str):
    """Release a write hold; releasing a lock not held is reported, then ignored.

    Mirrors kernel/locking/rwsem.c.
    """
    if not sem.writer:
        _violation(world, "unlock-not-held", sem,
                   f"bad unlock balance detected: {fn}() releases {sem.name}, which this task "
                   "does not hold (rwsem count underflow)")
        return
    sem.writer = False
    world.held_locks.remove(sem)
    world.emit("unlock", fn, f"{fn} releases {sem.name}", lock=sem.name, mode="write")


def down_read(world, sem: RwSem, fn: str):
    """Take sem for read; deadlocks if this task holds it for write. (kernel/locking/rwsem.c)"""
    if sem.writer:
        _violation(world, "deadlock", sem,
                   f"possible recursive locking detected: {fn}() tries to take {sem.name} for "
                   "read while this task holds it for write; the task sleeps forever")
        raise TaskHung(f"self-deadlock in {fn}(): {sem.name} is write-held by this task")
    if sem.readers:
        # Not a deadlock by itself, but one as soon as a writer queues between the two.
        _violation(world, "recursive-lock", sem,
                   f"possible recursive locking detected: {fn}() takes {sem.name} for read "
                   "again; a writer waiting in between would deadlock this task")
    sem.readers += 1
    world.held_locks.append(sem)
    world.emit("lock", fn, f"{fn} takes {sem.name} for read", lock=sem.name, mode="read")


def up_read(world, sem: RwSem, fn: str):
    """Release a read hold; reported if not held. (kernel/locking/rwsem.c)"""
    if not sem.readers:
        _violation(world, "unlock-not-held", sem,
                   f"bad unlock balance detected: {fn}() releases {sem.name} for read, "
                   "which this task does not hold")
        return
    sem.readers -= 1
    world.held_locks.remove(sem)
    world.emit("unlock", fn, f"{fn} releases {sem.name}", lock=sem.name, mode="read")


@kernel_function("include/linux/mmap_lock.h", quiet=True)
def mmap_write_lock(mm):
    down_write(mm.world, mm.mmap_lock, "mmap_write_lock")
    mm.mm_lock_seq += 1       # odd while write-held (spec §2.11)


@kernel_function("include/linux/mmap_lock.h", quiet=True)
def mmap_write_unlock(mm):
    world = mm.world
    mm.mm_lock_seq += 1       # every per-VMA write lock is dropped with it
    for vma in mm.vma_write_locked:
        world.emit("unlock", "mmap_write_unlock",
                   f"dropping mmap_lock also drops the write lock of {vma.label}",
                   lock=vma_lock_name(vma), vma=vma.id)
    mm.vma_write_locked.clear()
    up_write(world, mm.mmap_lock, "mmap_write_unlock")


@kernel_function("include/linux/mmap_lock.h", quiet=True)
def mmap_read_lock(mm):
    down_read(mm.world, mm.mmap_lock, "mmap_read_lock")


@kernel_function("include/linux/mmap_lock.h", quiet=True)
def mmap_read_unlock(mm):
    up_read(mm.world, mm.mmap_lock, "mmap_read_unlock")


def mmap_assert_write_locked(mm, fn: str):
    """Report an 'assert' violation unless mmap_lock is write-held. (include/linux/mmap_lock.h)"""
    if not mm.mmap_lock.writer:
        mm.world.report_violation("assert", mm.mmap_lock.name,
                                  f"{fn}(): mmap_assert_write_locked failed: mmap_lock is not "
                                  "held for write")


def vma_lock_name(vma) -> str:
    return f"vma_lock({vma.label})"


def vma_is_write_locked(vma) -> bool:
    """vm_lock_seq equals the odd mm_lock_seq of the current write section (spec §2.11).

    Mirrors include/linux/mmap_lock.h.
    """
    mm = vma.vm_mm
    return vma.vm_lock_seq == mm.mm_lock_seq and mm.mm_lock_seq % 2 == 1


@kernel_function("include/linux/mmap_lock.h", quiet=True)
def vma_start_write(vma):
    """Write-lock vma until mmap_lock is released; a no-op if already locked this section."""
    mm = vma.vm_mm
    if vma.vm_lock_seq == mm.mm_lock_seq:
        return
    mmap_assert_write_locked(mm, "vma_start_write")
    vma.vm_lock_seq = mm.mm_lock_seq
    mm.vma_write_locked.append(vma)
    mm.world.emit("lock", "vma_start_write", f"{vma.label} is write-locked: page faults on it "
                  "must wait until mmap_lock is dropped", lock=vma_lock_name(vma), vma=vma.id,
                  mode="write")


def i_mmap_lock_write(mapping, fn="i_mmap_lock_write"):
    """Take a file's rmap lock for write. (include/linux/fs.h)"""
    down_write(mapping.host.world, mapping.i_mmap_rwsem, fn)


def i_mmap_unlock_write(mapping, fn="i_mmap_unlock_write"):
    """Release a file's rmap lock. (include/linux/fs.h)"""
    up_write(mapping.host.world, mapping.i_mmap_rwsem, fn)
