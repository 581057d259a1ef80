"""Tasks and their per-process state (include/linux/sched.h task_struct, include/linux/fdtable.h).

A task runs one kernel path at a time; the model keeps, per task, what a kernel stack and
lockdep keep per task: the functions it is in and the locks it holds. Threads of one process
share `mm` and `files`; a forked child gets its own.
"""

from __future__ import annotations


class files_struct:
    """The open-file table of a process: fd number -> struct file (include/linux/fdtable.h)."""

    __slots__ = ("fd",)

    def __init__(self):
        self.fd: dict = {}

    def install(self, f) -> int:
        """The lowest free fd from 3 (0-2 are the standard streams) now refers to f."""
        n = 3
        while n in self.fd:
            n += 1
        self.fd[n] = f
        return n

    def get(self, n):
        return self.fd.get(n)


class task_struct:
    """One thread of execution. `stack` holds the modelled functions it is inside, outermost
    first; `held_locks` the locks it holds, in the order taken (lockdep's held_locks)."""

    __slots__ = ("world", "pid", "tgid", "comm", "mm", "files", "stack", "held_locks", "hung",
                 "waiting_for", "returned")

    def __init__(self, world, pid, tgid, comm, mm, files):
        self.world = world
        self.pid = pid
        self.tgid = tgid
        self.comm = comm
        self.mm = mm
        self.files = files
        self.stack: list = []
        self.held_locks: list = []
        self.hung = False
        self.waiting_for = None       # the lock this task sleeps on, if any
        self.returned = False         # its scheduled program has run to its end

    @property
    def label(self) -> str:
        return f"{self.comm}[{self.pid}]"

    def __repr__(self):
        return f"<task {self.label}>"
