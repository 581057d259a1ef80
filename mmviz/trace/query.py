"""Questions asked of a trace, answered once for every view: steps, jumps, changes, calls, locks.

Pure functions of a Trace (no pictures, no widgets):

| function | answers |
| --- | --- |
| `step_at(trace, i)` | the spec §2.3 step event i belongs to |
| `targets(trace)`, `next_target`, `prev_target` | the events a reader jumps between |
| `changed_vmas(trace, i)` | the VMA ids event i changed (what the pictures highlight) |
| `call_tree(trace)` | the merged call tree, and the node each event happens in |
| `lock_intervals(trace)` | every hold of every lock |
| `hook_spans(trace)` | every driver hook call: enter, exit, return value |
| `key_frames(trace)` | the events a handout prints: first hook, first lock, the error, the end |
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

JUMP_KINDS = ("hook", "lock", "error", "violation", "step", "switch", "vma")
POINTER_CALLS = ("f_op->mmap_prepare", "f_op->mmap", "vm_ops->mapped", "vm_ops->close",
                 "success_hook", "error_hook")


# --- steps and jumps --------------------------------------------------------------------------

def step_at(trace, i):
    """The spec step event (S0..S11, E1, E2) event i belongs to: the last one at or before it."""
    for e in reversed(trace.events[: i + 1]):
        if e.step:
            return e
    return None


def _is_error_ret(e) -> bool:
    ret = e.data.get("ret")
    return isinstance(ret, str) and ret.startswith("-E")


def targets(trace) -> dict:
    """{'hook': [seq...], 'lock': [...], 'error': [...], 'violation': [...], 'step': [...]}.

    - hook: a driver hook is called (f_op->mmap_prepare, vm_ops->mapped, success_hook, ...)
    - lock: the set of held locks changes
    - error: an error is born (an error or warning event, or the first event of a chain of
      returns carrying -E..., e.g. the hook that fails; not every caller that passes it on)
    - violation: the lock checker reports a rule broken
    - step: a numbered step of spec §2.3 (S0..S11, E1, E2) starts
    - vma: a VMA of the process is created, changed or removed (the layout changes)
    - switch: another task runs (a race of several tasks; `switches`)
    """
    out = {k: [] for k in JUMP_KINDS}
    prev_locks = tuple(trace.initial.locks_held)
    prev_err = False
    for e in trace.events:
        if e.kind == "hook" and e.data.get("phase") == "enter":
            out["hook"].append(e.seq)
        locks = tuple(e.snapshot.locks_held)
        if locks != prev_locks or e.kind in ("lock", "unlock"):
            out["lock"].append(e.seq)
        prev_locks = locks
        err = _is_error_ret(e) and e.kind in ("return", "hook")
        if e.kind in ("error", "warn") or (err and not prev_err):
            out["error"].append(e.seq)
        prev_err = err
        if e.kind == "violation":
            out["violation"].append(e.seq)
        if e.step:
            out["step"].append(e.seq)
        snap = e.snapshot
        if e.kind == "vma" or snap.del_ids or any(v.mm == 1 for v in snap.set_views):
            out["vma"].append(e.seq)
    out["switch"] = [seq for seq, _, _ in switches(trace)]
    return out


def next_target(seqs, i):
    """The first target after i, or None."""
    k = bisect.bisect_right(seqs, i)
    return seqs[k] if k < len(seqs) else None


def prev_target(seqs, i):
    """The last target before i, or None."""
    k = bisect.bisect_left(seqs, i)
    return seqs[k - 1] if k > 0 else None


# --- what changed -----------------------------------------------------------------------------

def changed_vmas(trace, i) -> frozenset:
    """Ids of the VMAs event i changed (from the state after event i-1, or the initial state),
    plus the VMA a `vma` event names (a split's new half, a VMA linked into the rmap). Ids
    that disappear are included, though a picture of event i cannot show them."""
    e = trace.events[i]
    ids = set(e.snapshot.changed)
    if e.kind == "vma" and isinstance(e.data.get("vma"), int):
        ids.add(e.data["vma"])
    return frozenset(ids)


def diff_ids(a, b) -> frozenset:
    """Ids of the VMAs whose view differs between two snapshots (e.g. initial and final)."""
    ids = {v.id for v in a.vmas} | {v.id for v in b.vmas}
    return frozenset(i for i in ids if a.vma(i) != b.vma(i))


# --- the call tree ----------------------------------------------------------------------------

@dataclass
class CallNode:
    id: int
    fn: str
    parent: int | None
    pointer: bool
    depth: int
    count: int = 0
    first_seq: int = -1
    rets: list = field(default_factory=list)
    children: list = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return any(isinstance(r, str) and r.startswith("-E") for r in self.rets)

    def label_lines(self) -> tuple:
        """(name line, error line or None)."""
        text = self.fn if self.id else "user space"
        if self.count > 1:
            text += f"  ×{self.count}"
        bad = [r for r in self.rets if isinstance(r, str) and r.startswith("-E")]
        return text, ("→ " + ", ".join(dict.fromkeys(bad))) if bad else None

    def label(self) -> str:
        name, err = self.label_lines()
        return name + (f"\n{err}" if err else "")


@dataclass
class CallTree:
    nodes: list                 # CallNode, index = id; node 0 is user space
    active: list                # per event: the node id of the frame the event happens in

    def path(self, node_id) -> list:
        """Node ids from the root down to node_id."""
        out = []
        while node_id is not None:
            out.append(node_id)
            node_id = self.nodes[node_id].parent
        return out[::-1]


def is_pointer_call(fn: str) -> bool:
    return fn in POINTER_CALLS or "->" in fn or fn.endswith("_hook")


def call_tree(trace) -> CallTree:
    """The merged call tree of `trace` (repeated calls of one function under one caller
    share a node, counted) and, for every event, the node it happens in."""
    nodes = [CallNode(0, "user", None, False, 0, count=1, first_seq=0)]
    index = {}
    stack = [0]
    active = []

    def enter(fn, pointer, seq):
        parent = stack[-1]
        nid = index.get((parent, fn))
        if nid is None:
            nid = len(nodes)
            nodes.append(CallNode(nid, fn, parent, pointer, nodes[parent].depth + 1, first_seq=seq))
            nodes[parent].children.append(nid)
            index[(parent, fn)] = nid
        nodes[nid].count += 1
        stack.append(nid)
        return nid

    def leave(fn, ret):
        for k in range(len(stack) - 1, 0, -1):
            if nodes[stack[k]].fn == fn:
                nid = stack[k]
                if ret is not None and ret not in nodes[nid].rets:
                    nodes[nid].rets.append(ret)
                del stack[k:]
                return nid
        return stack[-1]

    for e in trace.events:
        phase = e.data.get("phase")
        if e.kind == "call":
            active.append(enter(e.fn, False, e.seq))
        elif e.kind == "hook" and phase == "enter":
            active.append(enter(e.fn, True, e.seq))
        elif e.kind == "return" or (e.kind == "hook" and phase == "exit"):
            active.append(leave(e.fn, e.data.get("ret")))
        else:
            active.append(stack[-1])
    return CallTree(nodes, active)


# --- locks and hooks --------------------------------------------------------------------------

@dataclass(frozen=True)
class LockInterval:
    """`lock` is held after event `start` up to event `end`, which releases it.

    start is -1 when the lock was already held before the trace began; end is None when
    it is still held when the trace ends (a deadlocked task never releases anything).
    mode is "read" or "write" when the event that took it says so.
    """

    lock: str
    start: int
    end: int | None
    mode: str | None = None


def lock_family(name: str) -> str:
    """The lockdep class of a lock name: mmap_lock, i_mmap_rwsem, vma_lock, anon_vma,
    hugetlb_vma_lock, other."""
    for fam in ("mmap_lock", "i_mmap_rwsem", "vma_lock", "anon_vma", "hugetlb_vma_lock"):
        if name.startswith(fam):
            return fam
    return "other"


FAMILY_ORDER = ("mmap_lock", "i_mmap_rwsem", "anon_vma", "vma_lock", "hugetlb_vma_lock", "other")


def lock_order_key(name):
    """Sort key: lock class in nesting order, then the numbers in the name."""
    import re
    nums = [int(n) for n in re.findall(r"\d+", name)]
    return (FAMILY_ORDER.index(lock_family(name)), nums, name)


def lock_intervals(trace) -> list:
    """Every hold of every lock in `trace`, from each event's `locks_held`, in lane order."""
    held, modes, out = {}, {}, []
    for name in trace.initial.locks_held:
        held[name] = -1
    for e in trace.events:
        if e.kind == "lock" and "lock" in e.data:
            modes[e.data["lock"]] = e.data.get("mode")
        now = set(e.snapshot.locks_held)
        for name in list(held):
            if name not in now:
                out.append(LockInterval(name, held.pop(name), e.seq, modes.get(name)))
        for name in e.snapshot.locks_held:
            if name not in held:
                held[name] = e.seq
    for name, start in held.items():
        out.append(LockInterval(name, start, None, modes.get(name)))
    out.sort(key=lambda iv: (lock_order_key(iv.lock), iv.start))
    return out


def hook_spans(trace) -> list:
    """(name, enter seq, exit seq or None, return text) for every hook call."""
    open_, out = [], []
    for e in trace.events:
        if e.kind != "hook":
            continue
        if e.data.get("phase") == "enter":
            open_.append((e.fn, e.seq))
        elif e.data.get("phase") == "exit":
            for k in range(len(open_) - 1, -1, -1):
                if open_[k][0] == e.fn:
                    name, s = open_.pop(k)
                    out.append((name, s, e.seq, e.data.get("ret")))
                    break
    out += [(name, s, None, None) for name, s in open_]
    return sorted(out, key=lambda h: h[1])


def key_frames(trace) -> list:
    """The events worth printing when a trace cannot be stepped: the first driver hook, the
    first lock change after it, the first error, warning or violation, and the end."""
    t = targets(trace)
    picks = []
    for seqs in (t["hook"][:1], t["lock"][:1], (t["violation"] or t["error"])[:1]):
        picks.extend(seqs)
    if trace.events:
        picks.append(len(trace.events) - 1)
    return sorted(set(picks))


# --- several tasks ----------------------------------------------------------------------------

@dataclass(frozen=True)
class TaskInterval:
    """Task `pid` holds (what="hold"), waits for (what="wait") or runs (what="run", lock
    None) from event `start` to event `end` (None: to the end of the trace)."""

    pid: int
    what: str
    lock: str | None
    start: int
    end: int | None
    mode: str | None = None
    holders: tuple = ()          # a wait: the pids holding the lock when the wait began


def task_intervals(trace) -> list:
    """Every hold, wait and running stretch of every task of a trace of several tasks
    (from each event's TaskViews; empty for a trace of one task)."""
    if not trace.tasks:
        return []
    open_, out, modes, holders = {}, [], {}, {}
    for e in trace.events:
        if e.kind == "lock" and "lock" in e.data:
            modes[(e.task, e.data["lock"])] = e.data.get("mode")
        if e.kind == "wait":
            holders[(e.task, e.data.get("lock"))] = tuple(e.data.get("holders", ()))
        now = set()
        for tv in e.snapshot.tasks:
            now |= {(tv.pid, "hold", name) for name in tv.locks}
            if tv.waiting_for is not None:
                now.add((tv.pid, "wait", tv.waiting_for))
        if any(tv.pid == e.task and tv.state == "running" for tv in e.snapshot.tasks):
            now.add((e.task, "run", None))     # the task this event happens in runs
        for key in [k for k in open_ if k not in now]:
            out.append(_task_interval(key, open_.pop(key), e.seq, modes, holders))
        for key in now:
            open_.setdefault(key, e.seq)
    out += [_task_interval(k, s, None, modes, holders) for k, s in open_.items()]
    return sorted(out, key=lambda iv: (iv.pid, iv.what != "run", iv.start))


def _task_interval(key, start, end, modes, holders):
    pid, what, lock = key
    return TaskInterval(pid, what, lock, start, end,
                        modes.get((pid, lock)) if what == "hold" else None,
                        holders.get((pid, lock), ()) if what == "wait" else ())


def switches(trace) -> list:
    """(seq, pid before, pid after) of every event where a different task runs (the closing
    "after_tasks" note, written once every task is done, is no task's)."""
    out, last = [], None
    for e in trace.events:
        if e.what == "after_tasks":
            continue
        if last is not None and e.task != last:
            out.append((e.seq, last, e.task))
        last = e.task
    return out


#: What a task is doing to a VMA at an event, by the event that says so (a walker's visit,
#: a zap, a maps line), besides the VMA locks every snapshot records.
_TASK_VERBS = {"rmap_visit": "walk", "zap_range": "zap", "maps_line": "print",
               "hugetlb_skip_no_lock": "walk"}


def task_marks(trace, i) -> frozenset:
    """(vma id, pid, verb) for each VMA a task has its hands on at event i of a race:
    "write" (write-locked by the task's mmap), "read" (read-locked by its fault), and at
    this event "walk", "zap" or "print". Empty for a trace of one task."""
    if not trace.tasks or not 0 <= i < len(trace.events):
        return frozenset()
    e = trace.events[i]
    out = {(vma, tv.pid, how) for tv in e.snapshot.tasks for vma, how in tv.touching}
    verb = _TASK_VERBS.get(e.what)
    if verb is not None and isinstance(e.data.get("vma"), int):
        out.add((e.data["vma"], e.task, verb))
    return frozenset(out)
