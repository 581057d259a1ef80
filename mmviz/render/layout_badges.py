"""Which task has its hands on which VMA, drawn on the layout of a race.

A badge in the top-left corner of a VMA's box names the task and what it does there:
write-locked by its mmap, read-locked by its page fault, or, at this event, reached by its
rmap walk, zapped, or printed by its /proc/pid/maps reader (`trace.query.task_marks`).
A write lock is a dark badge, everything else a light one, so a reader tells "owns it"
from "looks at it" without colour.
"""

from __future__ import annotations

VERBS = {"write": "{t} write-locks", "read": "{t} faults (read lock)", "walk": "{t} walks rmap",
         "zap": "{t} zaps pages", "print": "{t} reads maps"}


def badge_words(marks, names) -> dict:
    """{vma id: [badge text, ...]} for (vma id, pid, verb) marks; names: {pid: 'A[1]'}."""
    out = {}
    for vma, pid, verb in sorted(marks, key=lambda m: (m[0], m[2] != "write", m[1], m[2])):
        text = VERBS.get(verb, "{t} " + str(verb)).format(t=names.get(pid, f"task {pid}"))
        out.setdefault(vma, []).append((text, verb == "write"))
    return out


def draw_badges(p, boxes, words, scale, text):
    """Badges in the top-left corner of each box (its first piece) of a VMA in `words`;
    `text` makes a stamped text (layout's `_text`)."""
    arts, seen = [], set()
    for v, r, x0, x1, y0, y1 in boxes:
        if v.id not in words or v.id in seen:
            continue
        seen.add(v.id)
        for k, (s, dark) in enumerate(words[v.id]):
            y = y1 - (3 + 15 * k) * scale / p.px_y
            if y < y0:
                break
            arts.append(text(p.ax, x0 + 3 / p.px_x, y, s, ha="left", va="top",
                             fontsize=8 * scale, color="white" if dark else "black",
                             zorder=6, clip_on=False,
                             bbox=dict(boxstyle="round,pad=0.15", lw=0.8, ec="black",
                                       fc="#1a1a1a" if dark else "white")))
    return arts


def badges_alt(marks, names) -> str:
    """The badges in words, for the layout's text alternative."""
    words = badge_words(marks, names)
    return "; ".join(f"vma#{vma}: " + ", ".join(s for s, _ in ws) for vma, ws in
                     sorted(words.items()))
