"""The words next to the pictures, as small HTML: narration, the violation banner, the step
label, a trace's header line.

The sentences themselves come from `narration.py` (the one place they are written); this
module only lays them out. Inline styles only (palette colours), so the same HTML looks the
same in JupyterLab, Notebook 7 and the offline stepper. Standard library only.
"""

from __future__ import annotations

import html

from ..trace.query import step_at, switches
from .narration import sentence, switch_note, tasks_line
from .palette import (BAD_TEXT, BANNER_EARLIER, BANNER_NOW, KIND_COLOURS, OK_TEXT, STEP_BADGE)


def esc(x) -> str:
    return html.escape(str(x), quote=True)


def badge(text, colour="#555555", solid=False) -> str:
    if solid:
        return (f"<span style='background:{colour};color:white;border-radius:3px;padding:0 5px;"
                f"font-size:11px;font-weight:bold'>{esc(text)}</span>")
    return (f"<span style='border:1px solid {colour};color:{colour};border-radius:3px;"
            f"padding:0 4px;font-size:11px'>{esc(text)}</span>")


def result_text(result) -> str:
    return result.summary()


def header_html(trace, outcome: bool = True) -> str:
    """The trace in one line: title, scenario, kernel, mode, what mmap returned, violations
    (outcome=False: neither, for a view that asks the reader to predict them)."""
    mode = "mmu" if trace.config.get("mmu", True) else "nommu"
    if not outcome:
        return (f"<div style='font-size:13px;line-height:1.5'><b>{esc(trace.title)}</b><br>"
                f"<code>{esc(trace.scenario)}</code> · kernel {badge(trace.kernel, '#333333')} · "
                f"{esc(mode)} · mmap returns <b>?</b></div>")
    res = trace.result
    colour = OK_TEXT if res.outcome == "ok" else BAD_TEXT
    nv = len(trace.violations)
    viol = badge(f"{nv} violation" + ("s" if nv > 1 else ""), BAD_TEXT, solid=True) if nv else ""
    if trace.tasks:                        # a race: what each task's call returned
        from .text import _ret_of
        rets = " · ".join(f"{esc(trace.task_label(pid))} returns <b>{esc(_ret_of(r))}</b>"
                          for pid, r in trace.task_results)
        return (f"<div style='font-size:13px;line-height:1.5'><b>{esc(trace.title)}</b><br>"
                f"<code>{esc(trace.scenario)}</code> · kernel {badge(trace.kernel, '#333333')} · "
                f"{len(trace.tasks)} tasks, {len(switches(trace))} switches · "
                f"<span style='color:{colour}'>{esc(res.outcome)}</span> · {rets} {viol}</div>")
    return (f"<div style='font-size:13px;line-height:1.5'><b>{esc(trace.title)}</b><br>"
            f"<code>{esc(trace.scenario)}</code> · kernel {badge(trace.kernel, '#333333')} · "
            f"{esc(mode)} · mmap returns <b style='color:{colour}'>{esc(result_text(res))}</b> "
            f"{viol}</div>")


def step_label_text(trace, i) -> str:
    """'event 12 / 82 · step S7' (plain text; the offline page's counter)."""
    n = len(trace.events)
    if not n:
        return "no events"
    if i < 0:
        return f"before event 0 / {n - 1}"
    st = step_at(trace, i)
    return f"event {i} / {n - 1}" + (f" · step {st.step}" if st is not None else "")


def step_label(trace, i) -> str:
    n = len(trace.events)
    if not n:
        return "<b>no events</b>"
    if i < 0:
        return f"<span style='font-size:13px'>before event <b>0</b> / {n - 1}</span>"
    st = step_at(trace, i)
    step = f" · step <b>{esc(st.step)}</b>" if st is not None else ""
    return f"<span style='font-size:13px'>event <b>{i}</b> / {n - 1}{step}</span>"


def _pending(pa) -> str:
    extra = []
    if pa.hide_from_rmap_until_complete:
        extra.append("hidden from the rmap until complete")
    if pa.has_success_hook:
        extra.append("success_hook")
    if pa.has_error_hook:
        extra.append("error_hook")
    return (f"<div>pending action: <code>{esc(pa.type)}</code>"
            + (f" ({esc(', '.join(extra))})" if extra else "") + "</div>")


def narration_html(trace, i) -> str:
    """What event i is, in a sentence, with its kind, step, function, locks and action."""
    if not trace.events:
        return "<i>This trace has no events.</i>"
    if i < 0:
        return "<i>Before the call: the state the scenario set up.</i>"
    e = trace.events[i]
    st = step_at(trace, i)
    parts = [f"<div class='mmviz-say' data-seq='{e.seq}' style='font-size:13px;"
             "line-height:1.45'>"]
    head = [badge(e.kind, KIND_COLOURS.get(e.kind, "#555555"), solid=True)]
    if getattr(trace, "tasks", ()):         # a race: which task this event happens in
        head.append(badge(trace.task_label(e.task), STEP_BADGE))
    if e.step:
        head.append(badge(e.step, STEP_BADGE, solid=True))
    head.append(f"<code>{esc(e.fn)}</code>")
    parts.append(" ".join(head))
    colour = BAD_TEXT if e.kind in ("error", "violation") else "#111111"
    parts.append(f"<div class='mmviz-sentence' style='margin:3px 0 4px 0;font-size:14px;"
                 f"color:{colour}'>{esc(sentence(e, trace.kernel))}</div>")
    if st is not None and st.seq != e.seq:
        parts.append(f"<div style='color:#555'>within spec step <b>{esc(st.step)}</b>: "
                     f"{esc(sentence(st, trace.kernel))}</div>")
    note = switch_note(trace, i)
    if note:                               # the CPU passed to another task: say why
        parts.append(f"<div class='mmviz-switch' style='margin:2px 0;padding:2px 6px;"
                     f"border-left:4px solid #333;background:#f2f2f2'>⇄ {esc(note)}</div>")
    if e.snapshot.tasks:
        parts.append(f"<div class='mmviz-tasks'>{esc(tasks_line(e.snapshot, trace))}</div>")
    else:
        locks = e.snapshot.locks_held
        lock_txt = " ".join(f"<code>{esc(x)}</code>" for x in locks) if locks else "none"
        parts.append(f"<div>locks held: {lock_txt}</div>")
    if e.snapshot.pending_action is not None:
        parts.append(_pending(e.snapshot.pending_action))
    parts.append("</div>")
    return "".join(parts)


VIOLATION_TITLES = {
    "unlock-not-held": "DOUBLE UNLOCK",
    "deadlock": "DEADLOCK",
    "recursive-lock": "RECURSIVE LOCK",
    "held-on-return": "LOCK HELD ON RETURN",
    "assert": "LOCK ASSERTION FAILED",
}


def violation_title(v) -> str:
    return VIOLATION_TITLES.get(v.kind, v.kind.upper())


def banner_html(trace, i) -> str:
    """Every lock-rule violation reported up to event i: red and in full at the event that
    reports it ("this step"), a quieter line for those earlier; empty before any."""
    shown = [v for v in trace.violations if v.seq <= i]
    if not shown:
        return ""
    now = shown[-1].seq == i
    b = BANNER_NOW if now else BANNER_EARLIER
    lines = []
    for v in shown:
        head = (f"<b style='color:{BANNER_NOW['border']}'>⚠ {esc(violation_title(v))}</b> "
                f"<span style='font-size:12px'>(lockdep: {esc(v.kind)})</span>")
        if v.seq == i:
            # The sentence is the narration's, right under it: the banner names the rule.
            lines.append(f"<div class='mmviz-violation mmviz-now'>{head} on "
                         f"<code>{esc(v.lock)}</code> <b>(this step)</b></div>")
        else:
            lines.append(f"<div class='mmviz-violation'>earlier, at event {v.seq}: {head} on "
                         f"<code>{esc(v.lock)}</code></div>")
    return (f"<div class='mmviz-banner-box' role='alert' style='background:{b['background']};"
            f"border-left:5px solid {b['border']};padding:2px 8px;font-size:13px;"
            f"color:{b['text']}'>" + "".join(lines) + "</div>")
