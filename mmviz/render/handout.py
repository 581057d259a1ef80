"""The key frames of a trace as static HTML: what a printed handout shows of a stepper.

A PDF cannot step, and a stepper frozen at event 0 shows an empty address space and dead
controls. The handout shows `trace.query.key_frames` instead — the first driver hook, the
first lock change, the error or violation, the end — each with its sentence, the layout and
the lock timeline with the cursor at that event (the same frames every view shows).
`mmviz.lessons` puts it beside each stepper of a deck, visible only when the deck is printed.
"""

from __future__ import annotations

import base64
import html

from ..trace.query import key_frames, targets


def _uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def key_frame_reasons(trace) -> dict:
    """{seq: why it is a key frame} for `key_frames(trace)`."""
    t = targets(trace)
    why = {}
    for seq, word in ((t["hook"][:1], "the first driver hook"),
                      (t["lock"][:1], "the first lock change"),
                      (t["violation"][:1], "the violation"), (t["error"][:1], "the error")):
        for s in seq:
            why.setdefault(s, word)
    if trace.events:
        why.setdefault(len(trace.events) - 1, "the end")
    return {s: why.get(s, "a key event") for s in key_frames(trace)}


def handout_html(trace, builder=None, title=None) -> str:
    """The key frames of `trace` as a self-contained HTML block (images as data: URIs)."""
    from .frame import FrameBuilder
    b = builder or FrameBuilder(trace, width=6.1, compact=True, callstack=False)
    tl = b.timeline
    reasons = key_frame_reasons(trace)
    esc = html.escape
    parts = [f'<div class="mmviz-handout" aria-label="Key frames (printed handout)">'
             f'<h3 class="mmviz-handout-title">Key frames: {esc(title or trace.title)} '
             f'(<code>{esc(trace.scenario)}</code>, {esc(trace.kernel)})</h3>']
    for k, (seq, why) in enumerate(reasons.items(), 1):
        f = b.frame(seq)
        parts.append(
            f'<div class="mmviz-key-frame" data-seq="{seq}">'
            f'<p class="mmviz-key-label"><b>Key frame {k} of {len(reasons)} — {esc(why)}:</b> '
            f'{esc(f.label)}</p>'
            f'<p class="mmviz-key-sentence">{esc(f.sentence)}'
            f' <span class="mmviz-key-locks">Locks held: '
            f'{esc(", ".join(f.locks) or "none")}.</span></p>'
            f'<div class="mmviz-key-pictures">'
            f'<img src="{_uri(f.layout_png)}" alt="{esc(f.layout_alt)}" '
            f'data-min-font-px="{b.layout_min_font_px}">'
            f'<div class="mmviz-key-timeline" style="position:relative">'
            f'<img src="{_uri(tl.png)}" alt="{esc(tl.alt)}" data-min-font-px="{tl.min_font_px}">'
            f'{tl.cursor_html(seq)}</div></div></div>')
    parts.append("</div>")
    return "".join(parts)
