"""Locks as model objects with a lockdep-style checker (kernel/locking/rwsem.c, mm/mmap_lock.c).

Lock helpers take the kernel's arguments only; the task is `world.current` and the
function named in events and reports is the innermost modelled function on its stack, as
lockdep names the caller.

- One task taking for write a lock it already holds can never succeed: the checker reports
  it and the task is declared hung (TaskHung).
- A lock another task holds makes the caller wait (the scheduler runs someone else) until a
  release wakes it; rwsems prefer writers, so a reader arriving while a writer waits queues
  behind it. With no scheduler there is no other task to release it: that is a deadlock.
- Taking a lock of a class that must come *before* a class already held (spec
  kernel-rmap-and-tasks §5.6) is a `lock-order` violation, reported even when no deadlock
  happens in this run, as lockdep reports a possible circular dependency.
- Releasing a lock that is not held is reported and otherwise ignored, as the kernel would
  carry on with a corrupted count.
Per-VMA write locks follow spec §2.11: sequence numbers, released all at once by
mmap_write_unlock.
"""

from .errors import TaskHung
from .instrument import kernel_function

# Lock classes in acquisition order (mm/rmap.c's header comment): a task may take a class
# only if it holds nothing of a later one.
LOCK_ORDER = {"mmap_lock": 10, "vma_lock": 20, "hugetlb": 25, "i_mmap": 30,
              "anon_vma": 40}


class RwSem:
    """A reader/writer semaphore: `owner` is the writing task, `readers` the reading ones,
    `waiters` the tasks sleeping until it is released."""

    __slots__ = ("world", "name", "kind", "owner", "readers", "waiters")

    def __init__(self, world, name: str, kind: str):
        self.world = world
        self.name = name
        self.kind = kind          # its lockdep class: a key of LOCK_ORDER
        self.owner = None
        self.readers: list = []
        self.waiters: list = []

    @property
    def held(self) -> bool:
        return self.owner is not None or bool(self.readers)

    def holders(self) -> list:
        return [self.owner] if self.owner is not None else list(dict.fromkeys(self.readers))

    def writer_waiting(self) -> bool:
        return any(t.waiting_for is not None and t.waiting_for[1] == "write"
                   for t in self.waiters)

    def force_release(self):
        """Model-only: forget every holder (after a report, so the next call starts clean)."""
        self.owner = None
        self.readers.clear()
        _wake(self)

    def __repr__(self):
        return f"<rwsem {self.name} {'W' if self.owner else ('R' if self.readers else '-')}>"


def current_fn(world) -> str:
    """The innermost modelled function the running task is in ("user" outside the kernel)."""
    stack = world.current.stack
    return stack[-1] if stack else "user"


def _wait(sem, mode):
    """The caller must wait for `sem` (another task holds it, or a writer queued first)."""
    world = sem.world
    sched = world.sched
    if sched is None or not sched.on_thread():
        # Nobody else runs in this world, so nobody will ever release it.
        world.report_violation("deadlock", sem.name, mode=mode, held="another task")
        raise TaskHung(f"{current_fn(world)}() waits for {sem.name} forever")
    sched.wait(sem, mode)


def _wake(sem):
    sched = sem.world.sched
    if sched is not None and sem.waiters:
        sched.wake(sem)


def check_lock_order(world, task, kind, name):
    """Report taking a lock of class `kind` while holding one of a later class (§5.6)."""
    rank = LOCK_ORDER.get(kind)
    if rank is None:
        return
    for held in held_classes(task):
        if LOCK_ORDER.get(held[0], 0) > rank:
            world.report_violation("lock-order", name, held=held[1], taking=name)
            return


def held_classes(task):
    """(class, name) of every lock the task holds, VMA write locks of its mm included."""
    out = [(s.kind, s.name) for s in task.held_locks]
    mm = task.mm
    if mm is not None and mm.mmap_lock.owner is task and mm.vma_write_locked:
        # All VMA write locks are one class: the first stands for them (listing every one
        # would make each vma_start_write cost the number already held, and fork quadratic).
        out.append(("vma_lock", vma_lock_name(mm.vma_write_locked[0])))
    return out


def down_write(sem: RwSem):
    """Take sem for write: a self-deadlock if this task holds it; wait while another does.

    Mirrors kernel/locking/rwsem.c.
    """
    world = sem.world
    if world.halted:
        return
    task = world.current
    if sem.owner is task or task in sem.readers:
        held = "write" if sem.owner is task else "read"
        world.report_violation("deadlock", sem.name, mode="write", held=held)
        raise TaskHung(f"self-deadlock in {current_fn(world)}(): {sem.name} is already held "
                       "by this task")
    check_lock_order(world, task, sem.kind, sem.name)
    while sem.owner is not None or sem.readers:
        _wait(sem, "write")
    _grant(sem, task, "write")


def _grant(sem: RwSem, task, mode: str):
    """`task` now holds sem for `mode`: the owner or one more reader, in its held_locks."""
    if mode == "write":
        sem.owner = task
    else:
        sem.readers.append(task)
    task.held_locks.append(sem)
    sem.world.emit("lock", "lock", lock=sem.name, mode=mode)


def down_write_trylock(sem: RwSem) -> bool:
    """Take sem for write if nobody holds it; never waits. (kernel/locking/rwsem.c)"""
    world = sem.world
    if world.halted:
        return False
    if sem.owner is not None or sem.readers:
        world.emit("note", "trylock_failed", lock=sem.name, mode="write")
        return False
    _grant(sem, world.current, "write")
    return True


def up_write(sem: RwSem):
    """Release a write hold; releasing a lock not held is reported, then ignored.

    Mirrors kernel/locking/rwsem.c.
    """
    world = sem.world
    if world.halted:
        return
    task = world.current
    if sem.owner is not task:
        world.report_violation("unlock-not-held", sem.name, mode="write")
        return
    sem.owner = None
    task.held_locks.remove(sem)
    world.emit("unlock", "unlock", lock=sem.name, mode="write")
    _wake(sem)


def down_read(sem: RwSem):
    """Take sem for read; a self-deadlock if this task holds it for write; waits while another
    task does, or while a writer waits (writers are preferred). (kernel/locking/rwsem.c)"""
    world = sem.world
    if world.halted:
        return
    task = world.current
    if sem.owner is task:
        world.report_violation("deadlock", sem.name, mode="read", held="write")
        raise TaskHung(f"self-deadlock in {current_fn(world)}(): {sem.name} is write-held by "
                       "this task")
    if task in sem.readers:
        # Not a deadlock by itself, but one as soon as a writer queues between the two.
        world.report_violation("recursive-lock", sem.name, mode="read")
    check_lock_order(world, task, sem.kind, sem.name)
    while sem.owner is not None or sem.writer_waiting():
        _wait(sem, "read")
    _grant(sem, task, "read")


def down_read_trylock(sem: RwSem) -> bool:
    """Take sem for read if no writer holds or waits for it; never waits."""
    world = sem.world
    if world.halted:
        return False
    if sem.owner is not None or sem.writer_waiting():
        world.emit("note", "trylock_failed", lock=sem.name, mode="read")
        return False
    _grant(sem, world.current, "read")
    return True


def up_read(sem: RwSem):
    """Release a read hold; reported if not held. (kernel/locking/rwsem.c)"""
    world = sem.world
    if world.halted:
        return
    task = world.current
    if task not in sem.readers:
        world.report_violation("unlock-not-held", sem.name, mode="read")
        return
    sem.readers.remove(task)
    task.held_locks.remove(sem)
    world.emit("unlock", "unlock", lock=sem.name, mode="read")
    _wake(sem)


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


@kernel_function("include/linux/mmap_lock.h", quiet=True)
def mmap_read_trylock(mm) -> bool:
    return down_read_trylock(mm.mmap_lock)


def mmap_assert_write_locked(mm):
    """Report an 'assert' violation unless mmap_lock is write-held. (include/linux/mmap_lock.h)"""
    if mm.world.halted:
        return
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
    """Write-lock vma until mmap_lock is released; a no-op if already locked this section.

    New readers are shut out at once; readers already inside are waited for (mm/mmap_lock.c).
    """
    mm = vma.vm_mm
    world = mm.world
    if vma.vm_lock_seq == mm.mm_lock_seq or world.halted:
        return
    mmap_assert_write_locked(mm)
    check_lock_order(world, world.current, "vma_lock", vma_lock_name(vma))
    lock = vm_lock_of(vma)
    lock.excluding = True               # new readers fail from now on (VMA_LOCK_OFFSET)
    while lock.readers:
        _wait(lock, "write")
    lock.excluding = False
    vma.vm_lock_seq = mm.mm_lock_seq
    mm.vma_write_locked.append(vma)
    world.emit("lock", "vma_write_lock", lock=vma_lock_name(vma), vma=vma.id, mode="write")


class VmLock(RwSem):
    """A VMA's lock as readers see it: the tasks reading it (vm_refcnt above one) and whether a
    writer is shutting new readers out while it waits for these to leave."""

    __slots__ = ("excluding", "vma_id")

    def __init__(self, world, name, vma_id):
        super().__init__(world, name, "vma_lock")
        self.excluding = False
        self.vma_id = vma_id

    def holders(self) -> list:
        return list(dict.fromkeys(self.readers))


def vm_lock_of(vma) -> VmLock:
    """The model's stand-in for a VMA's reader count and wait queue (vm_refcnt, vm_lock)."""
    lock = vma.vm_lock
    if lock is None:
        lock = VmLock(vma.world, vma_lock_name(vma), vma.id)
        vma.vm_lock = lock
    return lock


@kernel_function("include/linux/mmap_lock.h", quiet=True)
def vma_start_read(vma) -> bool:
    """Read-lock a VMA for a page fault, never waiting: fails if it is detached, write-locked
    or a writer is shutting readers out (mm/mmap_lock.c)."""
    mm = vma.vm_mm
    world = mm.world
    if world.halted:
        return False
    lock = vm_lock_of(vma)
    if vma.vm_refcnt == 0 or vma_is_write_locked(vma) or lock.excluding:
        world.emit("note", "vma_read_refused", vma=vma.id,
                   why="detached" if vma.vm_refcnt == 0 else "write-locked")
        return False
    lock.readers.append(world.current)
    vma.vm_refcnt += 1
    world.current.held_locks.append(lock)
    world.emit("lock", "vma_read_lock", lock=lock.name, vma=vma.id, mode="read")
    return True


@kernel_function("include/linux/mmap_lock.h", quiet=True)
def vma_end_read(vma):
    world = vma.world
    if world.halted:
        return
    lock = vm_lock_of(vma)
    task = world.current
    if task not in lock.readers:
        world.report_violation("unlock-not-held", lock.name, mode="read")
        return
    lock.readers.remove(task)
    vma.vm_refcnt -= 1
    task.held_locks.remove(lock)
    world.emit("unlock", "unlock", lock=lock.name, mode="read")
    _wake(lock)


def i_mmap_lock_write(mapping):
    """Take a file's rmap lock for write. (include/linux/fs.h)"""
    down_write(mapping.i_mmap_rwsem)


def i_mmap_unlock_write(mapping):
    """Release a file's rmap lock. (include/linux/fs.h)"""
    up_write(mapping.i_mmap_rwsem)


def i_mmap_lock_read(mapping):
    """Take a file's rmap lock for read, as rmap walkers do. (include/linux/fs.h)"""
    down_read(mapping.i_mmap_rwsem)


def i_mmap_trylock_read(mapping) -> bool:
    """Try the rmap lock for read without waiting (reclaim's walkers). (include/linux/fs.h)"""
    return down_read_trylock(mapping.i_mmap_rwsem)


def i_mmap_unlock_read(mapping):
    up_read(mapping.i_mmap_rwsem)
