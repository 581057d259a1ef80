"""A trace in words, for lesson cells: one sentence, one outcome line, a table of outcomes,
the text picture of an address space and the text lock timeline (both from
`mmviz.render.text`)."""

from __future__ import annotations

import html


def say(trace, event) -> str:
    """The sentence that explains `event` (or event number `event`) of `trace`."""
    from ..render.narration import sentence
    if isinstance(event, int):
        event = trace.events[event]
    return sentence(event, trace.kernel)


def result_words(t) -> str:
    """'returns -ENOMEM', 'returns 0x10000000', or 'DEADLOCK' / 'BUILD ERROR' as is."""
    r = t.result
    return (r.summary() if r.outcome in ("deadlock", "build-error", "unsupported")
            else "returns " + r.summary())


def outcome(trace) -> str:
    """One line: what the recorded call returned and how many lock violations it had."""
    v = len(trace.violations)
    return (f"{trace.scenario} on {trace.kernel}: {result_words(trace)}; "
            f"{v} lock violation{'s' if v != 1 else ''}"
            + (": " + "; ".join(x.kind for x in trace.violations) if v else ""))


def snapshot_of(world):
    """A frozen snapshot of a World now (what the renderers draw)."""
    from ..trace import take_snapshot
    return take_snapshot(world)


def strip(world_or_snapshot, start=0, end=None) -> str:
    """The text picture of an address space: one letter per page, a legend per VMA."""
    from ..render.text import ascii_strip
    snap = world_or_snapshot
    if hasattr(snap, "mm"):
        snap = snapshot_of(snap)
    vmas = [v for v in snap.vmas if v.end > start and (end is None or v.start < end)]
    return ascii_strip(vmas)


def lock_timeline(trace, width: int = 64) -> str:
    """The locks held over a trace as text (see mmviz.render.text.lock_timeline_text)."""
    from ..render.text import lock_timeline_text
    return lock_timeline_text(trace, width)


class OutcomeMatrix:
    """What each scenario does on each kernel version: a table (HTML in a notebook)."""

    def __init__(self, rows):
        self.rows = rows            # [(scenario, [(kernel, text, bad), ...]), ...]

    def __repr__(self):
        kernels = [k for k, _, _ in self.rows[0][1]] if self.rows else []
        w = max([len(n) for n, _ in self.rows] + [8]) + 2
        lines = [" " * w + "".join(f"{k:20s}" for k in kernels)]
        for name, cells in self.rows:
            lines.append(f"{name:{w}s}" + "".join(f"{t:20s}" for _, t, _ in cells))
        return "\n".join(lines)

    def _repr_html_(self):
        kernels = [k for k, _, _ in self.rows[0][1]] if self.rows else []
        head = "".join(f"<th>{html.escape(k)}</th>" for k in kernels)
        body = ""
        for name, cells in self.rows:
            tds = "".join(
                f'<td style="{"background:#fde2e2;color:#8a0000;font-weight:bold" if bad else ""}">'
                f"{html.escape(t)}</td>" for _, t, bad in cells)
            body += f"<tr><td><code>{html.escape(name)}</code></td>{tds}</tr>"
        return (f'<table class="mmviz-matrix"><thead><tr><th>scenario</th>{head}</tr></thead>'
                f"<tbody>{body}</tbody></table>")


def _cell(t):
    r = t.result
    text = {"deadlock": "DEADLOCK", "build-error": "BUILD ERROR",
            "unsupported": "n/a (lacks it)"}.get(r.outcome, f"-{r.errno}" if r.errno else "ok")
    left = bool(r.errno and t.final.vmas)
    lock = bool(t.violations and r.outcome != "deadlock")
    text += f" +{len(t.final.vmas)} VMA" if left else ""
    text += " !lock" if lock else ""
    return text, left or lock or r.outcome in ("deadlock", "build-error")


def outcome_matrix(names, kernels=("baseline", "v3", "v4")) -> OutcomeMatrix:
    """Record each scenario on each kernel: DEADLOCK, BUILD ERROR, -ERRNO or ok, with
    '+N VMA' when an error left VMAs behind and '!lock' when the lock checker complained;
    those cells are marked as bad."""
    from ..scenarios import record
    rows = []
    for name in names:
        rows.append((name, [(k, *_cell(record(name, kernel=k))) for k in kernels]))
    return OutcomeMatrix(rows)
