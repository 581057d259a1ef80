"""The race catalog: two tasks, one lock story each (spec kernel-rmap-and-tasks §5.8)."""

from __future__ import annotations

from ..model.drivers import HPAGE_SIZE, DriverSpec
from ..model.locking import mmap_read_lock, mmap_read_unlock
from ..model.rmap_walk_file import rmap_walk_file
from ..model.uapi import MAP_FIXED, MAP_SHARED, PROT_READ
from .base import ANON, RW, A, P, map_fd
from .race import Race, TaskPlan, switch_after


def _open(**spec):
    def setup(world):
        return {"fd": world.open_driver(DriverSpec("regular", **spec))}
    return setup


_map_file = map_fd()


def _buggy_walk(world, ctx):
    """A kernel thread's rmap walk whose rmap_one (a model of a buggy callback) takes the
    walked mm's mmap_lock while the walk holds the file's i_mmap_rwsem."""
    def rmap_one(vma):
        mmap_read_lock(vma.vm_mm)
        mmap_read_unlock(vma.vm_mm)
        return 0
    return world._syscall("rmap_walk", rmap_walk_file, world.fget(ctx["fd"]), 0, rmap_one)


def _mapped_file(world):
    fd = world.open_driver(DriverSpec("regular", name="data"))
    world.mmap(A, 2 * P, RW, MAP_SHARED | MAP_FIXED, fd, 0)
    return {"fd": fd}


RACES = [
    Race(
        "race-second-mmap", "A second thread's mmap waits for mmap_lock",
        "Two threads of one process map memory at the same time. Thread A holds mmap_lock for "
        "write from the start of its mmap() to the end; when B's mmap() begins while A is in "
        "the middle (just after A stored its new VMA), B must wait in mmap_write_lock. A "
        "finishes, dropping mmap_lock and with it every per-VMA write lock it took; only then "
        "does B run __mmap_region. One writer at a time: that is what mmap_lock is for.",
        lambda w: {},
        (TaskPlan("A", lambda w, c: w.mmap(A, 4 * P, RW, ANON)),
         TaskPlan("B", lambda w, c: w.mmap(A + 16 * P, 4 * P, RW, ANON))),
        switch_after("vma_stored")),
    Race(
        "race-fault-waits", "A page fault on a VMA being mapped waits, then sees it finished",
        "Thread A maps a file whose mmap_prepare fills in vm_ops; thread B touches the first "
        "page of the new range just after A stored the VMA. B tries the VMA's read lock first "
        "(lock_vma_under_rcu) — the fault path that needs no mmap_lock — but A write-locked the "
        "VMA before storing it, so the attempt fails at once. B falls back to mmap_lock for "
        "read, which waits until A's mmap() is over, looks the address up again and faults on "
        "the finished VMA, its ->mapped already run. This is why a new VMA is write-locked "
        "before it becomes visible in the tree.",
        _open(name="notes"),
        (TaskPlan("A", _map_file), TaskPlan("B", lambda w, c: w.touch(A))),
        switch_after("vma_stored")),
    Race(
        "race-hugetlbfs-truncate", "Truncation waits for a hugetlbfs VMA hidden until its lock exists",
        "hugetlbfs as converted to mmap_prepare (ea52cb24cd3f): its VMA lock, which every "
        "rmap walker of a shared hugetlb mapping must take, is allocated in a success_hook, "
        "after the VMA is already in the file's i_mmap. So the driver sets "
        "hide_from_rmap_until_complete. Process A maps the file; process B truncates it just "
        "after A linked the VMA. Truncation takes i_mmap_rwsem for write and waits; A's "
        "success_hook allocates the lock, maybe_rmap_unlock_action() drops i_mmap_rwsem, and "
        "only then does B walk, find the lock and unmap. In v3 the rmap lock is dropped "
        "before the success_hook runs: explore the schedules to find that window. In mainline "
        "the conversion is reverted: .mmap allocates the lock before the VMA is linked.",
        lambda w: {"fd": w.open_driver(DriverSpec("hugetlbfs", name="huge", size_pages=4096))},
        (TaskPlan("A", lambda w, c: w.mmap(A, HPAGE_SIZE, RW, MAP_SHARED | MAP_FIXED, c["fd"], 0)),
         TaskPlan("B", lambda w, c: w.ftruncate(c["fd"], 0), process=True)),
        switch_after("rmap_linked")),
    Race(
        "race-hugetlbfs-no-hide", "Without the hide flag, truncation finds a VMA with no lock",
        "The same race with a conversion that forgot hide_from_rmap_until_complete (a "
        "counterfactual driver). A's vma_link_file() drops i_mmap_rwsem as soon as the VMA is "
        "in i_mmap; B's truncation takes it, walks, and reaches A's VMA before the "
        "success_hook allocated its VMA lock: vm_private_data is empty. The Sept 2025 fix "
        "makes the walker skip such a VMA (before it, the trylock reported success without a "
        "lock and huge_pmd_unshare() asserted); either way the walker met a half-built VMA. "
        "This is why the conversion hid the VMA, and why the flag exists.",
        lambda w: {"fd": w.open_driver(DriverSpec("hugetlbfs", name="huge", size_pages=4096,
                                                  forget_hide=True))},
        (TaskPlan("A", lambda w, c: w.mmap(A, HPAGE_SIZE, RW, MAP_SHARED | MAP_FIXED, c["fd"], 0)),
         TaskPlan("B", lambda w, c: w.ftruncate(c["fd"], 0), process=True)),
        switch_after("rmap_linked", "unlock")),
    Race(
        "race-lock-order-deadlock", "Two tasks take mmap_lock and i_mmap_rwsem in opposite orders",
        "Thread A splits a file VMA with mprotect(): it holds mmap_lock for write and, in "
        "vma_prepare(), asks for the file's i_mmap_rwsem. Thread B runs an rmap walk of the "
        "same file whose callback (a bug, on purpose) asks for the mm's mmap_lock while the "
        "walk holds i_mmap_rwsem for read. The kernel's lock order (mm/rmap.c) is mmap_lock "
        "before i_mmap_rwsem: B breaks it, and the checker says so the moment B asks, even in "
        "runs where nothing goes wrong. Here A took mmap_lock first, so each waits for the "
        "other: a deadlock across tasks.",
        _mapped_file,
        (TaskPlan("A", lambda w, c: w.mprotect(A + P, P, PROT_READ)),
         TaskPlan("B", _buggy_walk)),
        switch_after("lock")),
]

_BY_NAME = {r.name: r for r in RACES}


def race_names() -> list:
    return [r.name for r in RACES]


def get_race(name: str) -> Race:
    from ..model.errors import InputError
    try:
        return _BY_NAME[name]
    except KeyError:
        raise InputError(f"unknown race {name!r}; choose one of: " + ", ".join(race_names())) from None
