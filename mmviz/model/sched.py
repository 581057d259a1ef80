"""Several tasks, one running at a time, switched only at their events: a deterministic scheduler.

Each task's program runs in its own Python thread, but a baton makes exactly one thread run
at any moment, so the model stays single-threaded in effect. A task gives the baton away only
at a *switch point* — each event it emits — or when it must wait for a lock another task
holds. Which task runs after each switch point is read from the schedule: a list of pids, one
per switch point, or a function `(point, pid, kind, what) -> pid or None` of the event just
emitted. Where the schedule says nothing, or names a task that cannot run, the running task
carries on, and when it cannot, the lowest-numbered runnable task runs. The pids actually
chosen are recorded (`taken`): replaying them as a list reproduces the run exactly.

When every unfinished task is waiting for a lock, the run is deadlocked: the scheduler reports
who waits for whom (a `deadlock` violation across tasks) and the tasks never return. Their
threads are then unwound one at a time with the world halted (`world.halted`: no events, no
lock changes), so the model's cleanup code cannot act on a world that, in the kernel, would
simply have stopped.
"""

from __future__ import annotations

import threading

from .errors import TaskHung

RUNNABLE, WAITING, DONE, HUNG = "runnable", "waiting", "done", "hung"


class _Unwind(BaseException):
    """Raised in a parked task's thread to end it after a deadlock (not an Exception, so no
    model code catches it)."""


class _Thread:
    """The thread a task's program runs in, and its side of the baton."""

    def __init__(self, task, program):
        self.task = task
        self.program = program
        self.go = threading.Semaphore(0)
        self.state = RUNNABLE
        self.result = None
        self.error = None
        self.killed = False
        self.thread = None


class Scheduler:
    """Runs programs as tasks of one world. `spawn` them, then `run()` once."""

    def __init__(self, world, schedule=()):
        self.world = world
        self.schedule = schedule if callable(schedule) else list(schedule)
        self.taken: list = []             # the pid chosen at every switch point
        self._threads: dict = {}          # pid -> _Thread, in spawn order
        self._done = threading.Event()
        self._deadlock = None             # description of the deadlock, if one happened

    # --- setting up -----------------------------------------------------------------------
    def spawn(self, task, program):
        """Run `program(world)` as `task` when the scheduler runs."""
        if task.pid in self._threads:
            raise ValueError(f"{task.label} already has a program")
        self._threads[task.pid] = _Thread(task, program)
        task.returned = False

    def run(self) -> dict:
        """Run every program to its end (or to a deadlock); {pid: return value or exception}."""
        world = self.world
        if not self._threads:
            return {}
        world.sched = self
        main = world.current
        try:
            for t in self._threads.values():
                t.thread = threading.Thread(target=self._body, args=(t,), daemon=True,
                                            name=f"mmviz-{t.task.label}")
                t.thread.start()
            first = self._pick(None)
            world.current = first.task
            first.go.release()
            self._done.wait()
            for t in self._threads.values():
                t.thread.join(timeout=30)
        finally:
            world.sched = None
            world.current = main
        return {pid: (t.error if t.error is not None else t.result)
                for pid, t in self._threads.items()}

    @property
    def deadlock(self):
        return self._deadlock

    def state_of(self, task) -> str:
        t = self._threads.get(task.pid)
        return t.state if t is not None else RUNNABLE

    # --- inside a task's thread ---------------------------------------------------------------
    def _body(self, t):
        t.go.acquire()
        try:
            if t.killed:
                raise _Unwind()
            t.result = t.program(self.world)
            t.state = DONE
            t.task.returned = True
        except _Unwind:
            t.state = HUNG
            self._unwind_next()
            return
        except TaskHung as e:
            t.state = HUNG
            t.task.hung = True
            t.error = e
        except BaseException as e:       # a model bug: reported to the caller of run()
            t.state = DONE
            t.error = e
        self._leave(t)

    def _current(self):
        return self._threads.get(self.world.current.pid)

    def on_thread(self) -> bool:
        """Is the calling thread the running task's (not the caller of run())?"""
        t = self._current()
        return t is not None and t.thread is threading.current_thread()

    def switch_point(self, kind=None, what=None):
        """Called at every event of the running task: maybe give the baton to another task."""
        t = self._current()
        if t is None or t.thread is not threading.current_thread() or t.state != RUNNABLE:
            return
        nxt = self._pick(t, kind, what)
        if nxt is not t:
            self._hand(t, nxt)

    def wait(self, sem, mode):
        """The running task must wait for `sem`: park it until a release wakes it."""
        t = self._current()
        t.state = WAITING
        t.task.waiting_for = (sem, mode)
        sem.waiters.append(t.task)
        self.world.emit("wait", "wait_lock", lock=sem.name, mode=mode,
                        holders=[h.pid for h in sem.holders()])
        nxt = self._pick(t)
        if nxt is None:
            self._declare_deadlock(t)
        else:
            self._hand(t, nxt)
        if sem.waiters and t.task in sem.waiters:
            sem.waiters.remove(t.task)
        t.task.waiting_for = None

    def wake(self, sem):
        """`sem` was released: every task waiting for it may try again."""
        for task in list(sem.waiters):
            t = self._threads.get(task.pid)
            if t is not None and t.state == WAITING:
                t.state = RUNNABLE
        sem.waiters.clear()

    # --- choosing and handing over ------------------------------------------------------------
    def _runnable(self):
        return sorted((t for t in self._threads.values() if t.state == RUNNABLE),
                      key=lambda t: t.task.pid)

    def _pick(self, cur, kind=None, what=None):
        """The task to run after this switch point (None if none can run)."""
        runnable = self._runnable()
        if not runnable:
            return None
        i = len(self.taken)
        if callable(self.schedule):
            want = self.schedule(i, cur.task.pid if cur is not None else None, kind, what)
        else:
            want = self.schedule[i] if i < len(self.schedule) else None
        chosen = next((t for t in runnable if t.task.pid == want), None)
        if chosen is None:
            chosen = cur if cur is not None and cur.state == RUNNABLE else runnable[0]
        self.taken.append(chosen.task.pid)
        return chosen

    def _hand(self, t, nxt):
        """Give the baton to `nxt` and park until someone gives it back."""
        self.world.current = nxt.task
        nxt.go.release()
        t.go.acquire()
        if t.killed:
            raise _Unwind()

    def _leave(self, t):
        """A task finished: run the next one, or end the run."""
        nxt = self._pick(None)
        if nxt is not None:
            self.world.current = nxt.task
            nxt.go.release()
            return
        waiting = [x for x in self._threads.values() if x.state == WAITING]
        if waiting:
            self._declare_deadlock(waiting[0], parked=True)
            return
        self._done.set()

    def _declare_deadlock(self, t, parked=False):
        """No task can run and `t` waits: report the wait-for chain, then unwind every waiter."""
        chain = wait_chain(t.task)
        self._deadlock = chain
        world = self.world
        world.current = t.task
        sem = t.task.waiting_for[0] if t.task.waiting_for else None
        world.report_violation("deadlock", sem.name if sem is not None else "?", cross=True,
                               chain=[[task.pid, task.comm, lock] for task, lock in chain])
        world.halted = True
        for x in self._threads.values():
            if x.state == WAITING:
                x.state = HUNG
                x.task.hung = True
                x.killed = True
        if parked:
            self._unwind_next()
        else:
            t.killed = False          # this thread unwinds now; the others after it
            raise _Unwind()

    def _unwind_next(self):
        """Let the next killed thread unwind, or end the run when none is left."""
        for x in self._threads.values():
            if x.killed and x.state == HUNG and not x.thread is threading.current_thread():
                if not getattr(x, "_released", False):
                    x._released = True
                    x.go.release()
                    return
        self._done.set()


def wait_chain(task) -> list:
    """[(task, lock it waits for)] following waits-for → held-by from `task` until it repeats."""
    chain, seen = [], set()
    while task is not None and task.pid not in seen and task.waiting_for is not None:
        seen.add(task.pid)
        sem = task.waiting_for[0]
        chain.append((task, sem.name))
        holders = sem.holders()
        task = holders[0] if holders else None
    return chain
