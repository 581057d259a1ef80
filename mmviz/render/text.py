"""The reference renderer: plain text. An ASCII strip of the address space, in the style of
the kernel's own VMA tests, a numbered transcript of a trace, and the lock timeline as
text (one row per lock; the picture's text twin)."""

from __future__ import annotations

import textwrap

from ..model.uapi import PAGE_SIZE as PAGE
from .narration import sentence, violation_message
# Flags every ordinary VMA has; the legend lists only the others.
_ORDINARY = {"VM_READ", "VM_WRITE", "VM_EXEC", "VM_SHARED", "VM_MAYREAD", "VM_MAYWRITE",
             "VM_MAYEXEC", "VM_MAYSHARE", "VM_SOFTDIRTY"}
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def _fmt_locks(locks) -> str:
    if not locks:
        return "-"
    return " ".join(locks)


def ascii_strip(vmas, max_gap_pages: int = 4, legend: bool = True) -> str:
    """One character per page: a letter per VMA, '.' for a hole, '~' for a long hole.

    A legend line per VMA gives range, perms, pgoff, file, the flags beyond the ordinary
    access bits, and its state (write-locked, detached, hidden from the rmap).
    """
    vmas = sorted(vmas, key=lambda v: v.start)
    if not vmas:
        return "(no VMAs)\n"
    strip = ["|"]
    legend_lines = []
    prev_end = None
    for i, v in enumerate(vmas):
        letter = _LETTERS[i % len(_LETTERS)]
        if prev_end is not None and v.start > prev_end:
            gap = (v.start - prev_end) // PAGE
            strip.append("." * gap if gap <= max_gap_pages else "..~..")
        strip.append(letter * max(1, min(v.pages, 64)) + ("»" if v.pages > 64 else ""))
        prev_end = v.end
        notes = [f for f in v.flags if f not in _ORDINARY]
        if v.special:
            notes.append("VM_SPECIAL")
        if v.write_locked:
            notes.append("write-locked")
        if v.detached:
            notes.append("detached")
        if v.hidden:
            notes.append("hidden from rmap")
        if v.anon_vma is not None:
            notes.append(f"anon_vma#{v.anon_vma}")
        legend_lines.append(f"  {letter} = {v.label} [{v.start:#x},{v.end:#x}) {v.perms} "
                            f"pgoff={v.pgoff:#x} {v.file or 'anon'}"
                            + (f" ({', '.join(notes)})" if notes else ""))
    strip.append("|")
    out = f"{vmas[0].start:#x} " + "".join(strip) + f" {vmas[-1].end:#x}\n"
    if legend:
        out += "\n".join(legend_lines) + "\n"
    return out


def _ret_text(result) -> str:
    if result.errno:
        return f"-{result.errno} ({result.ret})"
    return result.summary()


def _ret_of(r) -> str:
    if r is None:
        return "never returned"
    if -4095 <= r < 0:
        from ..model.errno import Errno
        return Errno.name_of(r)
    return f"{r:#x}" if r > 4096 else str(r)


def transcript(trace, width: int = 100) -> str:
    """The whole trace as numbered, indented text: the accessible form of every picture."""
    mode = "mmu" if trace.config.get("mmu", True) else "nommu"
    out = [f"mmviz trace {trace.scenario} — kernel {trace.kernel}, {mode}", trace.title, ""]
    out += textwrap.wrap(trace.description, width) + [""]
    comm = {pid: name for pid, name, _ in trace.tasks}
    if comm:
        out.append("Tasks: " + ", ".join(f"{name}[{pid}]" for pid, name in comm.items())
                   + f"; schedule of {len(trace.schedule)} switch points (replays the run)")
        out.append("")
    out.append("Before:")
    out.append(ascii_strip(trace.initial.vmas).rstrip("\n"))
    out.append("")
    width_of_comm = max((len(c) for c in comm.values()), default=4)
    who = "task".rjust(width_of_comm) + " " if comm else ""
    out.append(f" seq {who}step kind      event (indented by call depth)  [locks held]")
    last_locks = None
    for e in trace.events:
        step = e.step or ""
        locks = e.snapshot.locks_held
        lock_txt = f"  [{_fmt_locks(locks)}]" if locks != last_locks else ""
        last_locks = locks
        task = f"{comm.get(e.task, e.task)!s:>{width_of_comm}} " if comm else ""
        out.append(f"{e.seq:4d} {task}{step:>4} {e.kind:<9} {'  ' * e.depth}"
                   f"{sentence(e, trace.kernel)}{lock_txt}")
    out.append("")
    out.append(f"Result: {_ret_text(trace.result)}")
    if trace.task_results:
        out.append("Tasks returned: " + ", ".join(
            f"{trace.task_label(pid)} {_ret_of(r)}" for pid, r in trace.task_results))
    if trace.violations:
        out.append("Violations:")
        for v in trace.violations:
            out.append(f"  [{v.kind}] at event {v.seq} on {v.lock}: "
                       f"{violation_message(trace, v)}")
    else:
        out.append("Violations: none")
    out.append("")
    out.append(f"After (map_count={trace.final.map_count}):")
    out.append(ascii_strip(trace.final.vmas).rstrip("\n"))
    return "\n".join(out) + "\n"


def lock_timeline_text(trace, width: int = 64) -> str:
    """The locks held over a trace as text: one row per lock, one column per slice of events
    ('#' = held), the step labels (S0..S11) on top and '!' where the lock checker complained."""
    events = trace.events
    if not events:
        return "(no events)"
    n = len(events)
    col = [min(width - 1, i * width // n) for i in range(n)]
    names = []
    for e in events:
        for lock in e.locks_held:
            if lock not in names:
                names.append(lock)
    for v in trace.violations:
        if v.lock not in names:
            names.append(v.lock)
    label_w = max([len(x) for x in names] + [5]) + 1
    head = [" "] * width
    for i, e in enumerate(events):
        if e.step and e.step.startswith("S"):
            c = col[i]
            if all(ch == " " for ch in head[c:c + len(e.step) + 1]):
                head[c:c + len(e.step)] = list(e.step)
    rows = [" " * label_w + "".join(head).rstrip()]
    bad = {(v.lock, v.seq) for v in trace.violations}
    for name in names:
        cells = [" "] * width
        for i, e in enumerate(events):
            if name in e.locks_held:
                cells[col[i]] = "#"
        for lock, seq in bad:
            if lock == name and seq < n:
                cells[col[seq]] = "!"
        rows.append(name.ljust(label_w) + "".join(cells).rstrip())
    rows.append(" " * label_w + "event 0" + " " * max(0, width - 14 - len(str(n - 1)))
                + f"event {n - 1}")
    return "\n".join(rows)
