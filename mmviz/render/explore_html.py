"""A race's exploration as an HTML table: a row per run of schedules that behave alike.

The same rows as `scenarios.explore.table` (the CLI's text), with each verdict in words and
colour (never colour alone), for the Explorer widget and the lessons.
"""

from __future__ import annotations

import html

from ..scenarios.explore import groups
from .palette import BAD_TEXT, OK_TEXT, VIOLATION

VERDICT_COLOURS = {"ok": OK_TEXT, "different result": "#7a5200", "violation": VIOLATION,
                   "broken invariant": BAD_TEXT, "deadlock": VIOLATION}


def _results(ex, results) -> str:
    from .text import _ret_of
    comm = {1: "A", 2: "B", 3: "C"}
    return ", ".join(f"{comm.get(pid, pid)} {_ret_of(r)}" for pid, r in results)


def row_label(ex, a, b, r) -> str:
    """'B runs after A's event 12 (vma_link_file: unlock) — ok', or a range of them."""
    where = (f"after A's event {a} ({ex.point(a)})" if a == b else
             f"after A's events {a}…{b} ({ex.point(a)} … {ex.point(b)})")
    return f"B runs {where} — {r.verdict}"


def exploration_html(ex, chosen=None) -> str:
    """The table; `chosen` (a switch point) marks the row being stepped through."""
    esc = html.escape
    c = ex.counts()
    head = (f"<div style='font-size:13px;margin:2px 0 6px 0'><b>{esc(ex.race)}</b> under "
            f"<code>{esc(ex.kernel)}</code>: {len(ex.runs)} single-switch schedules in "
            f"{ex.seconds:.2f} s — " + ", ".join(
                f"<span style='color:{VERDICT_COLOURS[v]}'>{esc(v)} {n}</span>"
                for v, n in c.items() if n) + "</div>")
    rows = []
    for a, b, r in groups(ex):
        span = f"{a}" if a == b else f"{a}–{b}"
        where = ex.point(a) if a == b else f"{ex.point(a)} … {ex.point(b)}"
        what = ", ".join(dict.fromkeys(r.violations)) or (r.problem or "")
        mark = chosen is not None and a <= chosen <= b
        colour = VERDICT_COLOURS.get(r.verdict, "#333")
        rows.append(
            f"<tr class='mmviz-explore-row{' mmviz-chosen' if mark else ''}' data-from='{a}' "
            f"data-to='{b}' style='{'background:#fff6d5;' if mark else ''}'>"
            f"<td style='text-align:right;padding:1px 8px'>{span}</td>"
            f"<td style='padding:1px 8px;text-align:left'><code>{esc(where)}</code></td>"
            f"<td style='padding:1px 8px;text-align:left;color:{colour};font-weight:bold'>"
            f"{'✔ ' if r.verdict == 'ok' else '✖ '}{esc(r.verdict)}</td>"
            f"<td style='padding:1px 8px;text-align:left'>{esc(_results(ex, r.results))}</td>"
            f"<td style='padding:1px 8px;text-align:left'>{esc(what)}</td></tr>")
    table = ("<table class='mmviz-explore' style='border-collapse:collapse;font-size:12px'>"
             "<thead><tr style='border-bottom:1px solid #999'>"
             + "".join(f"<th style='text-align:{a};padding:1px 8px'>{h}</th>" for h, a in (
                 ("A's events before B", "right"), ("A had just done", "left"),
                 ("verdict", "left"), ("results", "left"), ("what went wrong", "left")))
             + "</tr></thead><tbody>"
             + "".join(rows) + "</tbody></table>")
    return head + table
