"""Locks as model objects with a lockdep-style checker (kernel/locking/rwsem.c, mm/mmap_lock.c).

Lock helpers take the kernel's arguments only; the task is `world.current` and the
function named in events and reports is the innermost modelled function on its stack, as
lockdep names the caller. One task taking for write a lock it already holds can never
succeed: the checker reports it and the task is declared hung (TaskHung). Releasing a lock
that is not held is reported and otherwise ignored, as the kernel would carry on with a
corrupted count. Per-VMA write locks follow spec §2.11: sequence numbers, released all at
once by mmap_write_unlock.
"""

from .errors import TaskHung
from .instrument import kernel_function


class RwSem:
    """A reader/writer semaphore: `owner` is the writing task, `readers` the reading ones."""

    __slots__ = ("world", "name", "kind", "owner", "readers")

    def __init__(self, world, name: str, kind: str):
        self.world = world
        self.name = name
        self.kind = kind          # "mmap_lock", "i_mmap", "anon_vma" or "hugetlb": its lockdep class
        self.owner = None
        self.readers: list = []

    @property
    def writer(self) -> bool:
        return self.owner is not None

    @property
    def held(self) -> bool:
        return self.owner is not None or bool(self.readers)

    def force_release(self):
        """Model-only: forget every holder (after a report, so the next call starts clean)."""
        self.owner = None
        self.readers.clear()

    def __repr__(self):
        return f"<rwsem {self.name} {'W' if self.owner else ('R' if self.readers else '-')}>"


def current_fn(world) -> str:
    """The innermost modelled function the running task is in ("user" outside the kernel)."""
    stack = world.current.stack
    return stack[-1] if stack else "user"


def down_write(sem: RwSem):
    """Take sem for write; a second acquisition by this task is a self-deadlock.

    Mirrors kernel/locking/rwsem.c.
    """
    world = sem.world
    task = world.current
    if sem.owner is task or task in sem.readers:
        held = "write" if sem.owner is task else "read"
        world.report_violation("deadlock", sem.name, mode="write", held=held)
        raise TaskHung(f"self-deadlock in {current_fn(world)}(): {sem.name} is already held "
                       "by this task")
    sem.owner = task
    task.held_locks.append(sem)
    world.emit("lock", "lock", lock=sem.name, mode="write")


def up_write(sem: RwSem):
    """Release a write hold; releasing a lock not held is reported, then ignored.

    Mirrors kernel/locking/rwsem.c.
    """
    world = sem.world
    task = world.current
    if sem.owner is not task:
        world.report_violation("unlock-not-held", sem.name, mode="write")
        return
    sem.owner = None
    task.held_locks.remove(sem)
    world.emit("unlock", "unlock", lock=sem.name, mode="write")


def down_read(sem: RwSem):
    """Take sem for read; deadlocks if this task holds it for write. (kernel/locking/rwsem.c)"""
    world = sem.world
    task = world.current
    if sem.owner is task:
        world.report_violation("deadlock", sem.name, mode="read", held="write")
        raise TaskHung(f"self-deadlock in {current_fn(world)}(): {sem.name} is write-held by "
                       "this task")
    if task in sem.readers:
        # Not a deadlock by itself, but one as soon as a writer queues between the two.
        world.report_violation("recursive-lock", sem.name, mode="read")
    sem.readers.append(task)
    task.held_locks.append(sem)
    world.emit("lock", "lock", lock=sem.name, mode="read")


def up_read(sem: RwSem):
    """Release a read hold; reported if not held. (kernel/locking/rwsem.c)"""
    world = sem.world
    task = world.current
    if task not in sem.readers:
        world.report_violation("unlock-not-held", sem.name, mode="read")
        return
    sem.readers.remove(task)
    task.held_locks.remove(sem)
    world.emit("unlock", "unlock", lock=sem.name, mode="read")


@kernel_function("include/linux/mmap_lock.h", quiet=True)
def mmap_write_lock(mm):
    down_write(mm.mmap_lock)
    mm.mm_lock_seq += 1       # odd while write-held (spec §2.11)


@kernel_function("include/linux/mmap_lock.h", quiet=True)
def mmap_write_unlock(mm):
    world = mm.world
    mm.mm_lock_seq += 1       # every per-VMA write lock is dropped with it
    for vma in mm.vma_write_locked:
        mm.vma_journal_add(vma)
        world.emit("unlock", "vma_unlock_all", lock=vma_lock_name(vma), vma=vma.id)
    mm.vma_write_locked.clear()
    up_write(mm.mmap_lock)


@kernel_function("include/linux/mmap_lock.h", quiet=True)
def mmap_read_lock(mm):
    down_read(mm.mmap_lock)


@kernel_function("include/linux/mmap_lock.h", quiet=True)
def mmap_read_unlock(mm):
    up_read(mm.mmap_lock)


def mmap_assert_write_locked(mm):
    """Report an 'assert' violation unless mmap_lock is write-held. (include/linux/mmap_lock.h)"""
    if mm.mmap_lock.owner is not mm.world.current:
        mm.world.report_violation("assert", mm.mmap_lock.name, mode="write")


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
    mmap_assert_write_locked(mm)
    vma.vm_lock_seq = mm.mm_lock_seq
    mm.vma_write_locked.append(vma)
    mm.world.emit("lock", "vma_write_lock", lock=vma_lock_name(vma), vma=vma.id, mode="write")


def i_mmap_lock_write(mapping):
    """Take a file's rmap lock for write. (include/linux/fs.h)"""
    down_write(mapping.i_mmap_rwsem)


def i_mmap_unlock_write(mapping):
    """Release a file's rmap lock. (include/linux/fs.h)"""
    up_write(mapping.i_mmap_rwsem)
