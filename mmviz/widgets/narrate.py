"""The words next to the pictures: narration, the violation banner, the step label.

Pure functions of a trace and a cursor returning small HTML strings (inline styles only,
so they look the same in JupyterLab, Notebook 7 and exported HTML).
"""

from __future__ import annotations

import html

from ..render.narration import sentence, violation_message
from ..trace.query import step_at

KIND_COLOURS = {"call": "#3b7dd8", "return": "#3b7dd8", "lock": "#2e9e6a", "unlock": "#2e9e6a",
                "hook": "#8c5fbf", "vma": "#e08a1e", "error": "#d1242f", "warn": "#b8860b",
                "note": "#666666", "violation": "#d1242f"}


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


def header_html(trace) -> str:
    mode = "mmu" if trace.config.get("mmu", True) else "nommu"
    res = trace.result
    colour = "#2e7d32" if res.outcome == "ok" else "#d1242f"
    viol = (badge(f"{len(trace.violations)} violation" + ("s" if len(trace.violations) > 1
                  else ""), "#d1242f", solid=True) if trace.violations else "")
    return (f"<div style='font-size:13px;line-height:1.5'><b>{esc(trace.title)}</b><br>"
            f"<code>{esc(trace.scenario)}</code> · kernel {badge(trace.kernel, '#3b7dd8')} · "
            f"{esc(mode)} · mmap returns <b style='color:{colour}'>{esc(result_text(res))}</b> "
            f"{viol}</div>")


def step_label(trace, i) -> str:
    n = len(trace.events)
    if not n:
        return "<b>no events</b>"
    st = step_at(trace, i)
    step = f" · step <b>{esc(st.step)}</b>" if st is not None else ""
    return f"<span style='font-size:13px'>event <b>{i}</b> / {n - 1}{step}</span>"


def narration_html(trace, i) -> str:
    if not trace.events:
        return "<i>This trace has no events.</i>"
    e = trace.events[i]
    st = step_at(trace, i)
    parts = ["<div style='font-size:13px;line-height:1.45'>"]
    head = [badge(e.kind, KIND_COLOURS.get(e.kind, "#555555"), solid=True)]
    if e.step:
        head.append(badge(e.step, "#e0550b", solid=True))
    head.append(f"<code>{esc(e.fn)}</code>")
    parts.append(" ".join(head))
    colour = "#d1242f" if e.kind in ("error", "violation") else "#111111"
    parts.append(f"<div style='margin:3px 0 4px 0;font-size:14px;color:{colour}'>"
                 f"{esc(sentence(e, trace.kernel))}</div>")
    if st is not None and st.seq != e.seq:
        parts.append(f"<div style='color:#555'>within spec step <b>{esc(st.step)}</b>: "
                     f"{esc(sentence(st, trace.kernel))}</div>")
    locks = e.snapshot.locks_held
    lock_txt = " ".join(f"<code>{esc(x)}</code>" for x in locks) if locks else "none"
    parts.append(f"<div>locks held: {lock_txt}</div>")
    pa = e.snapshot.pending_action
    if pa is not None:
        extra = []
        if pa.hide_from_rmap_until_complete:
            extra.append("hidden from the rmap until complete")
        if pa.has_success_hook:
            extra.append("success_hook")
        if pa.has_error_hook:
            extra.append("error_hook")
        parts.append(f"<div>pending action: <code>{esc(pa.type)}</code>"
                     + (f" ({esc(', '.join(extra))})" if extra else "") + "</div>")
    parts.append("</div>")
    return "".join(parts)


def banner_html(trace, i) -> str:
    """Red at a violation event; a quieter reminder after one; empty before any."""
    here = [v for v in trace.violations if v.seq == i]
    if here:
        v = here[0]
        return (f"<div style='background:#fdecea;border-left:5px solid #d1242f;padding:6px 10px;"
                f"font-size:13px'><b style='color:#d1242f'>lockdep: {esc(v.kind)}</b> on "
                f"<code>{esc(v.lock)}</code> — {esc(violation_message(trace, v))}</div>")
    before = [v for v in trace.violations if v.seq < i]
    if before:
        v = before[-1]
        return (f"<div style='background:#fff6e5;border-left:5px solid #e0a01e;padding:4px 10px;"
                f"font-size:12px'>earlier, at event {v.seq}: <b>{esc(v.kind)}</b> on "
                f"<code>{esc(v.lock)}</code></div>")
    return ""


def layout_title(trace, i) -> str:
    if not trace.events:
        return "no events"
    st = step_at(trace, i)
    return f"after event {i}" + (f" (step {st.step})" if st is not None else "")
