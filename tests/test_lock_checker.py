"""The lock checker: each rule reports the violation kind the trace format names."""

import pytest

import mmviz
from mmviz.model.errors import TaskHung
from mmviz.model.locking import RwSem, down_read, down_write, mmap_assert_write_locked, up_read, up_write


@pytest.fixture
def world():
    w = mmviz.World()
    events = []
    w.hook = lambda world, kind, fn, what, data: events.append((kind, fn, dict(data)))
    w.events = events
    return w


def test_recursive_write_is_a_deadlock_and_hangs(world):
    sem = RwSem(world, "i_mmap_rwsem(f)", "i_mmap")
    down_write(sem)
    with pytest.raises(TaskHung):
        down_write(sem)
    assert [v["kind"] for v in world.violations] == ["deadlock"]
    assert ("violation", "lockdep", {"violation": "deadlock", "lock": "i_mmap_rwsem(f)",
                                     "mode": "write", "held": "write"}) in world.events


def test_read_while_write_held_is_a_deadlock(world):
    sem = RwSem(world, "s", "i_mmap")
    down_write(sem)
    with pytest.raises(TaskHung):
        down_read(sem)


def test_recursive_read_is_reported_but_proceeds(world):
    sem = RwSem(world, "s", "i_mmap")
    down_read(sem)
    down_read(sem)
    assert [v["kind"] for v in world.violations] == ["recursive-lock"]
    up_read(sem)
    up_read(sem)
    assert not sem.held


def test_unlock_not_held_is_reported_and_ignored(world):
    sem = RwSem(world, "s", "i_mmap")
    up_write(sem)
    up_read(sem)
    assert [v["kind"] for v in world.violations] == ["unlock-not-held", "unlock-not-held"]
    assert not sem.held


def test_assert_write_locked(world):
    mmap_assert_write_locked(world.mm)
    assert [v["kind"] for v in world.violations] == ["assert"]


def test_lock_events_name_the_innermost_modelled_function(world):
    """Lock helpers take only the lock: the function comes from the task's call stack."""
    from mmviz.model.instrument import kernel_function
    sem = RwSem(world, "s", "i_mmap")

    @kernel_function("mm/test.c", quiet=True)
    def takes_it(w):
        down_write(sem)
        up_write(sem)
    takes_it(world)
    assert [(k, fn) for k, fn, _ in world.events] == [("lock", "takes_it"), ("unlock", "takes_it")]


def test_lock_held_on_return_to_user_space(world):
    sem = RwSem(world, "leaky", "i_mmap")

    def syscall():
        down_write(sem)
        return 0
    assert world._syscall("test", syscall) == 0
    assert [v["kind"] for v in world.violations] == ["held-on-return"]
    assert world.held_locks == []


def test_a_hung_world_refuses_further_calls():
    w = mmviz.World(kernel="baseline")
    from mmviz.model.drivers import DriverSpec
    from mmviz.model.errno import Errno
    fd = w.open_driver(DriverSpec("pfn-remap", hide=True, fail={"action_complete": -Errno.ENOMEM}))
    with pytest.raises(TaskHung):
        w.mmap(0x10000000, 4096, 3, mmviz.MAP_SHARED | mmviz.MAP_FIXED, fd, 0)
    with pytest.raises(TaskHung, match="deadlocked"):
        w.munmap(0x10000000, 4096)
