"""A handle on one process of a World: the system calls, run as that process.

`World.fork()` returns one for the child. Each call runs with `world.current` switched to
the process's task for its duration, so every modelled function acts on that task's
address space and fd table and takes its locks as that task; the World object itself
stays the handle of process 1.
"""

from __future__ import annotations

from .errors import InputError

# World methods a process handle offers, acting on the process's own mm and fds.
PROCESS_CALLS = ("mmap", "munmap", "mprotect", "touch", "read", "load", "mremap", "madvise",
                 "mlock", "mlock2", "munlock", "brk", "fork", "memfd_create", "ftruncate",
                 "dup", "reopen", "close", "open_driver", "vmas", "proc_maps", "validate",
                 "rmap_walk", "smaps_flags")


class Process:
    """The process of one task of a World (see the module docstring)."""

    def __init__(self, world, task):
        self.world = world
        self.task = task

    @property
    def pid(self) -> int:
        return self.task.tgid

    @property
    def mm(self):
        return self.task.mm

    @property
    def fds(self) -> dict:
        return self.task.files.fd

    @property
    def exited(self) -> bool:
        return self.task.exited

    def _run(self, name, *args, **kwargs):
        from .world import World
        if self.task.exited:
            raise InputError(f"process {self.pid} has exited; its calls cannot run")
        world = self.world
        previous = world.current
        world.current = self.task
        try:
            return getattr(World, name)(world, *args, **kwargs)
        finally:
            world.current = previous

    def exit(self) -> None:
        """The process exits: its address space is torn down and its fds closed."""
        from .fork import close_files, exit_mmap
        if self.task.exited:
            return
        world = self.world
        previous = world.current
        world.current = self.task
        try:
            exit_mmap(self.task.mm)
            close_files(self.task.files)
            self.task.exited = True
        finally:
            world.current = previous

    def __repr__(self):
        state = " exited" if self.task.exited else ""
        return f"<process {self.pid}{state}: {len(self.task.mm.mm_mt)} VMAs>"


def _make(name):
    def call(self, *args, **kwargs):
        return self._run(name, *args, **kwargs)
    call.__name__ = name
    call.__qualname__ = f"Process.{name}"
    return call


for _name in PROCESS_CALLS:
    setattr(Process, _name, _make(_name))
