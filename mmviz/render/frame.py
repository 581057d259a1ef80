"""The one frame builder: everything a view shows at one event of a trace.

    from mmviz.render.frame import FrameBuilder, frame_at
    f = frame_at(trace, 12)             # a Frame: words, changed VMAs, pictures, CSS marks
    b = FrameBuilder(trace, width=7.0)  # one per view: caches what the frames share

Every view reads its frames here: the widgets (`Stepper`, `Compare`, `Predict`), the offline
HTML stepper and, through it, the slides. So they show the same narration (`narration.py`),
the same changed VMAs (`trace.query.changed_vmas`), the same palette (`palette.py`) and the
same pictures, drawn once per thing they depend on:

- the layout: one picture per distinct state (the VMAs, map_count, pending action and the
  changed ones), painted by a cached `LayoutPainter` (static part drawn once per builder);
- the lock timeline: drawn once per trace; a frame carries only its cursor (HTML over the
  image, `TimelinePicture.cursor_html`);
- the call graph: drawn once per trace (Graphviz runs once); a frame carries the CSS that
  marks its node (`callgraph.highlight_css`);
- the source: each function highlighted once (`source.source_block`); a frame carries its
  block number and the CSS that marks its line.

Sizes are parameters (`width` in inches, `scale` for fonts) so a two-column laptop layout or
a lecture-room font size is a builder argument, not a new drawing path. A builder is
thread-safe: each thread paints with its own painter.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

from ..trace.query import call_tree, changed_vmas, key_frames, targets, task_marks
from .narration import sentence
from .narration_html import banner_html, narration_html, step_label, step_label_text
from .palette import palette_id

ALT_LIST_VMAS = 30          # a layout's text alternative lists up to this many VMAs


@dataclass(frozen=True)
class Frame:
    """What a view shows at one event (index -1: the state before the first event).

    Not the call-stack `Frame` of `mmviz.trace.snapshot`: this is a view's frame.
    """

    index: int
    n: int                     # events in the trace
    kind: str | None
    fn: str | None
    step: str | None           # the spec §2.3 step the event belongs to
    label: str                 # "event 12 / 82 · step S7"
    label_html: str
    sentence: str              # the event's sentence (narration.py)
    narration_html: str
    banner_html: str
    violation: bool            # the lock checker reports a violation at this event
    locks: tuple
    changed: frozenset         # VMA ids this event changed (the layout marks those it shows)
    layout_key: int            # the distinct layout picture (FrameBuilder.layout_png(key))
    layout_png: bytes
    layout_alt: str
    layout_caption: str        # "3 VMAs · map_count 3 · pending action ...": over the picture
    cursor: int | None         # the timeline cursor's event, None before the first
    timeline_left: float | None  # where the cursor goes, in % of the timeline image width
    cursor_html: str
    callgraph_node: int | None
    callgraph_css: str
    callgraph_focus_css: str   # keeps the current call in the middle of a widget's pane
    source_block: int          # FrameBuilder.source_blocks()[source_block]
    source_line: int | None
    source_where: str
    source_css: str
    callstack: str             # SVG: the calls made so far
    palette: str               # palette_id(): the colours every picture used
    alt: str                   # the whole frame in words (screen readers, transcripts)
    errors: tuple = ()         # one line per part that failed to build (the rest is shown)
    transcript_line: str = ""  # this event's line of render.text.transcript
    strip: str = ""            # the address space as text (render.text.ascii_strip)


class FrameBuilder:
    """Builds the frames of one trace for one view size; caches what frames share.

    width: picture width in inches (100 px each); scale: font scale; scope: a CSS selector
    the marks are scoped to (a widget's own class, so two steppers on a page do not mark
    each other); axis/legend_traces: share the layout axis and legend with other traces
    (Compare); compact: smaller PNGs at 150 dpi (pages embedding every picture);
    timeline=False: a view without one; callstack=False: no call-stack picture (only the
    widgets show one: the pages leave it out)
    (Predict: it would show the future); max_height: at most this tall (inches), the
    layout and the timeline; layout_height: the layout alone (a laptop's column).
    """

    def __init__(self, trace, *, width=9.0, scale=1.0, scope="", axis=None,
                 legend_traces=(), compact=False, cache=256, timeline=True, max_height=None,
                 layout_height=None, callstack=True):
        self.trace = trace
        self.max_height = max_height
        self.width, self.scale, self.scope, self.compact = width, scale, scope, compact
        self.has_timeline = timeline
        self.has_callstack = callstack
        self.palette = palette_id()
        self._lock = threading.Lock()
        self._block_lock = threading.Lock()
        self._local = threading.local()
        self._layout_keys, self._layouts = {}, OrderedDict()
        self._layout_alts, self._key_snap = {}, {}
        self._cache_size = cache
        self._timeline = self._callgraph = None
        self._blocks, self._block_of = [], {}
        self._cg_css = {}
        self.tree = call_tree(trace)
        self.targets = targets(trace)
        self._steps = _steps_of(trace)
        self.names = trace_names(trace)
        self.geometry = LayoutGeometry.of([trace, *legend_traces], axis, width, scale,
                                          dpi=150 if compact else 100, names=self.names,
                                          max_height=layout_height or max_height)
        self._min_font = None
        self._strips = {}
        self._cg_centers = None

    # --- what is drawn once per trace ------------------------------------------------------------
    @property
    def timeline(self):
        """The trace's `TimelinePicture` (drawn on first use, once)."""
        with self._lock:
            if self._timeline is None:
                from .timeline import timeline_picture
                self._timeline = timeline_picture(self.trace, width=self.width,
                                                  scale=self.scale, compact=self.compact,
                                                  max_height=self.max_height)
            return self._timeline

    @property
    def callgraph_svg(self) -> str:
        """The call graph with no node marked (Graphviz runs once per builder)."""
        with self._lock:
            if self._callgraph is None:
                from .callgraph import callgraph_svg, strip_xml_prolog
                self._callgraph = strip_xml_prolog(callgraph_svg(self.trace, None,
                                                                 tree=self.tree))
            return self._callgraph

    @property
    def layout_min_font_px(self) -> float:
        """The smallest text of this builder's layout pictures, in image pixels (measured
        on a figure of the trace's busiest state, once)."""
        if self._min_font is None:
            from ._mpl import min_font_px
            snaps = _snapshots(self.trace)
            snap = max(snaps, key=lambda s: len(s.vmas))
            fig = self.geometry.painter().figure(snap, names=self.names)
            self._min_font = min_font_px(fig, self.geometry.dpi)
        return self._min_font

    def key_frames(self) -> list:
        """The events a handout prints (trace.query.key_frames: the first hook, the first
        lock change, the error or violation, the end)."""
        return key_frames(self.trace)

    def prepare(self):
        """Draw what every frame shares, once: the timeline, the call graph, each function's
        highlighted source (a view calls this when it is made, so stepping only builds
        frames)."""
        if self.has_timeline:
            self.timeline
        self.callgraph_svg
        self.all_source_blocks()
        return self

    def source_blocks(self) -> list:
        """Every source block made so far (index = Frame.source_block)."""
        with self._lock:
            return list(self._blocks)

    def all_source_blocks(self) -> list:
        """Every block any event of the trace shows (highlights each function once)."""
        for e in self.trace.events:
            self._block(e)
        return self.source_blocks()

    def _block(self, event):
        from .source import block_key, source_block
        key = block_key(event)
        with self._lock:
            b = self._block_of.get(key)
            if b is not None:
                return b
        with self._block_lock:            # one block at a time: its number is in its ids
            with self._lock:
                b = self._block_of.get(key)
                if b is not None:
                    return b
                b = len(self._blocks)
            html = source_block(event, self.block_prefix(b))
            with self._lock:
                self._block_of[key] = b
                self._blocks.append(html)
            return b

    def block_prefix(self, b) -> str:
        return f"mmviz-src-{b}"

    # --- the layout picture ----------------------------------------------------------------------
    def _painter(self):
        p = getattr(self._local, "painter", None)
        if p is None:
            p = self._local.painter = self.geometry.painter()
        return p

    def layout_key(self, snap, changed, marks=frozenset()) -> int:
        """The number of the distinct picture this state draws as: the picture shows the
        VMAs, which changed, and in a race which task has its hands on which VMA (marks:
        `task_marks`); map_count and the pending action are in the caption."""
        key = (id(snap.vmas), changed, marks)
        with self._lock:
            k = self._layout_keys.get(key)
            if k is None:
                k = self._layout_keys[key] = len(self._layout_keys)
                self._key_snap[k] = (snap, changed, marks)
            return k

    def _badges(self, marks):
        if not marks:
            return None
        from .layout_badges import badge_words
        names = {pid: self.trace.task_label(pid) for pid, _c, _t in self.trace.tasks}
        return badge_words(marks, names)

    def layout_png(self, key) -> bytes:
        """The PNG of layout picture `key` (drawn once, kept in a bounded cache)."""
        with self._lock:
            png = self._layouts.get(key)
            if png is not None:
                self._layouts.move_to_end(key)
                return png
            snap, changed, marks = self._key_snap[key]
        png = self._painter().png(snap, highlight=changed, badges=self._badges(marks),
                                  names=self.names or None)
        if self.compact:
            from ._mpl import compact_png
            png = compact_png(png)
        with self._lock:
            self._layouts[key] = png
            while len(self._layouts) > self._cache_size:
                self._layouts.popitem(last=False)
        return png

    def layout_alt(self, key) -> str:
        with self._lock:
            alt = self._layout_alts.get(key)
            snap, changed, marks = self._key_snap[key]
        if alt is None:
            alt = layout_alt(snap, changed, self.geometry.band, self.names)
            if marks:
                from .layout_badges import badges_alt
                names = {pid: self.trace.task_label(pid) for pid, _c, _t in self.trace.tasks}
                alt += " Tasks at work: " + badges_alt(marks, names) + "."
            with self._lock:
                self._layout_alts[key] = alt
        return alt

    # --- frames --------------------------------------------------------------------------------
    def frame(self, i: int, marked: bool = True) -> Frame:
        """Everything a view shows at event i (i = -1, or a trace without events: before).
        marked=False: the state after event i with no VMA marked as changed (Compare, for a
        side with no event in a row). A part that fails to build (a broken renderer) is left
        empty and named in `errors`; the other parts are still shown."""
        t = self.trace
        if not t.events or i < 0:
            return self._before()
        e, errors = t.events[i], []

        def part(what, fn, empty):
            try:
                return fn()
            except Exception as exc:        # a broken picture must not stop the stepping
                first = (str(exc).splitlines() or [""])[0]
                errors.append(f"{what}: {type(exc).__name__}: {first}".rstrip(": "))
                return empty
        changed = part("changed VMAs", lambda: _shown(changed_vmas(t, i), e.snapshot),
                       frozenset()) if marked else frozenset()
        marks = part("task badges", lambda: task_marks(t, i), frozenset())
        key = self.layout_key(e.snapshot, changed, marks)
        node = self.tree.active[i] if i < len(self.tree.active) else None
        block = part("source", lambda: self._block(e), self._user_block())
        line, where = part("source", lambda: _source_line(e), (None, ""))
        label, text = step_label_text(t, i), sentence(e, t.kernel)
        alt = part("layout", lambda: self.layout_alt(key), "")
        return Frame(
            index=i, n=len(t.events), kind=e.kind, fn=e.fn, step=self._steps[i], label=label,
            label_html=step_label(t, i), sentence=text, narration_html=narration_html(t, i),
            banner_html=banner_html(t, i), violation=e.kind == "violation",
            locks=tuple(e.snapshot.locks_held), changed=changed, layout_key=key,
            layout_png=part("layout", lambda: self.layout_png(key), b""), layout_alt=alt,
            layout_caption=self.geometry.caption(e.snapshot),
            cursor=i, timeline_left=part("timeline", lambda: self.cursor_left(i), None),
            cursor_html=part("timeline", lambda: self.cursor_html(i), ""), callgraph_node=node,
            callgraph_css=part("call graph", lambda: self.callgraph_css(node), ""),
            callgraph_focus_css=part("call graph", lambda: self.callgraph_focus_css(node), ""),
            source_block=block, source_line=line, source_where=where,
            source_css=part("source", lambda: _line_css(self.block_prefix(block), line,
                                                        self.scope), ""),
            callstack=(part("call stack", lambda: _callstack(t, i, self.scale), "")
                       if self.has_callstack else ""),
            palette=self.palette, errors=tuple(dict.fromkeys(errors)),
            alt=f"{label}: {text} Locks held: {', '.join(e.snapshot.locks_held) or 'none'}. "
                f"{alt}",
            transcript_line=part("text", lambda: transcript_line(t, e), ""),
            strip=part("text", lambda: self.strip(key), ""))

    def strip(self, key) -> str:
        """The ASCII strip of layout picture `key` (its text twin), made once."""
        with self._lock:
            text = self._strips.get(key)
            snap = self._key_snap[key][0]
        if text is None:
            from .text import ascii_strip
            text = (ascii_strip(snap.vmas) if len(snap.vmas) <= ALT_LIST_VMAS else
                    f"({len(snap.vmas):,} VMAs: the text strip is left out above "
                    f"{ALT_LIST_VMAS}; the transcript has every step)\n")
            with self._lock:
                self._strips[key] = text
        return text

    def _before(self) -> Frame:
        """The state before the first event (Compare shows it for a side not started yet)."""
        t = self.trace
        snap = t.initial
        key = self.layout_key(snap, frozenset())
        alt = self.layout_alt(key)
        return Frame(
            index=-1 if t.events else 0, n=len(t.events), kind=None, fn=None, step=None,
            label=step_label_text(t, -1), label_html=step_label(t, -1 if t.events else 0),
            sentence="before the call", narration_html=narration_html(t, -1),
            banner_html="", violation=False, locks=tuple(snap.locks_held),
            changed=frozenset(), layout_key=key, layout_png=self.layout_png(key),
            layout_alt=alt, layout_caption=self.geometry.caption(snap), cursor=None, timeline_left=None, cursor_html=self.cursor_html(None),
            callgraph_node=None, callgraph_css="", callgraph_focus_css="",
            source_block=self._user_block(),
            source_line=None, source_where="", source_css="", callstack="",
            palette=self.palette, alt=f"Before the call. {alt}",
            transcript_line="before the call", strip=self.strip(key))

    def _user_block(self) -> int:
        from .source import user_card
        with self._block_lock, self._lock:
            b = self._block_of.get(("user", None, None))
            if b is None:
                b = self._block_of[("user", None, None)] = len(self._blocks)
                self._blocks.append(user_card())
            return b

    def cursor_html(self, seq) -> str:
        return self.timeline.cursor_html(seq) if self.has_timeline else ""

    def cursor_left(self, seq):
        return self.timeline.cursor_left(seq) if self.has_timeline else None

    def callgraph_css(self, node) -> str:
        with self._lock:
            css = self._cg_css.get(node)
        if css is None:
            from .callgraph import highlight_css
            css = highlight_css(self.tree, node, self.scope)
            with self._lock:
                self._cg_css[node] = css
        return css

    def callgraph_focus_css(self, node) -> str:
        from .callgraph import focus_css, node_centers
        with self._lock:
            centers = self._cg_centers
        if centers is None:
            centers = node_centers(self.callgraph_svg)
            with self._lock:
                self._cg_centers = centers
        return focus_css(centers, node, self.scope)

    def close(self):
        """Drop every cached picture (a closed view gives its memory back)."""
        with self._lock:
            self._layouts.clear()
            self._layout_alts.clear()
            self._layout_keys.clear()           # the keys name snapshots: forget both
            self._key_snap.clear()
            self._strips.clear()
            self._cg_centers = None
            self._timeline = self._callgraph = None
            self._blocks.clear()
            self._block_of.clear()
            self._cg_css.clear()
        self._local = threading.local()


def trace_names(trace) -> dict:
    """{vma id: name} of the named areas of a trace's process ([heap], [stack], [vdso]...),
    kept in its config by a recording made from a maps file (mmviz.program)."""
    raw = trace.config.get("vma_names") if hasattr(trace, "config") else None
    if not isinstance(raw, dict):
        return {}
    out = {}
    for k, v in raw.items():
        try:
            out[int(k)] = str(v)
        except (TypeError, ValueError):
            continue
    return out


def transcript_line(trace, e) -> str:
    """The event's line as the transcript prints it: number, step, kind, sentence, locks."""
    locks = ", ".join(e.snapshot.locks_held) or "none"
    return (f"{e.seq:4d} {e.step or '':>4} {e.kind:<9} {sentence(e, trace.kernel)}"
            f"  [locks: {locks}]")


def _steps_of(trace) -> list:
    """The spec step each event belongs to (query.step_at for every event, in one pass)."""
    out, cur = [], None
    for e in trace.events:
        if e.step:
            cur = e.step
        out.append(cur)
    return out


def _shown(changed, snap) -> frozenset:
    """The changed ids a picture of `snap` can mark: the views it holds (new or changed
    views are in set_views; a VMA only named by the event is looked up in small sets)."""
    present = {v.id for v in snap.set_views if v.mm == 1}
    out = {i for i in changed if i in present}
    rest = changed - present - set(snap.del_ids)
    if rest and len(snap.vmas) <= 4096:
        out |= {i for i in rest if snap.vmas.get(i) is not None}
    return frozenset(out)


def _source_line(e):
    from .source import source_line
    return source_line(e)


def _line_css(prefix, line, scope):
    from .source import line_css
    return line_css(prefix, line, scope)


def _callstack(trace, i, scale):
    from .callgraph import callstack_svg
    return callstack_svg(trace, i, scale=scale)


# --- the layout's geometry for a trace ---------------------------------------------------------------

@dataclass
class LayoutGeometry:
    """Axis, rows, band, legend and size of the layout pictures of one or more traces."""

    axis: object
    rows: int
    dense: bool
    band: tuple | None
    band_axis: object
    swatches: list
    size: tuple
    scale: float
    n: int
    dpi: int = 100

    names: dict | None = None

    @classmethod
    def of(cls, traces, axis, width, scale, dpi=100, names=None, max_height=None):
        from .layout import BAND_VMAS, DENSE_VMAS, AddressAxis, default_size
        from .layout_axis import auto_rows, detail_window, vma_ranges
        snaps = [s for t in traces for s in _snapshots(t)]
        ranges = vma_ranges(snaps)
        axis = axis if axis is not None else _axis(ranges)
        n = max((len(s.vmas) for s in snaps), default=0)
        focus = trace_focus(traces[0]) if n > BAND_VMAS else None
        band = band_axis = None
        if focus is not None:
            band = detail_window(ranges, focus)
            band_axis = AddressAxis((s, e) for s, e in ranges if s < band[1] and e > band[0])
        dense = n > DENSE_VMAS or band is not None
        rows = (2 if n <= DENSE_VMAS else 3) if band else auto_rows(n)
        swatches = trace_swatches(traces, snaps, axis, dense, band, band_axis, names)
        h = (default_size(n, rows, band is not None)[1] - 0.14) * scale   # no heading line
        if max_height is not None:
            h = min(h, max_height)
        return cls(axis, rows, dense, band, band_axis, swatches, (width, h), scale, n, dpi,
                   names)

    def painter(self):
        """The layout painter of these pictures. The one-line summary is not drawn: views
        show it as text over the picture (`caption`)."""
        from .layout import LayoutPainter
        return LayoutPainter(self.axis, size=self.size, rows=self.rows, dense=self.dense,
                             swatches=self.swatches, band=self.band, band_axis=self.band_axis,
                             scale=self.scale, n_hint=self.n, dpi=self.dpi, heading=False,
                             ticks=bool(self.names))

    def caption(self, snap) -> str:
        from .layout import summary_line
        text = summary_line(snap)
        if self.dense:
            text += " · binned to pixels" + (" · detail band around the call" if self.band
                                             else "")
        if self.axis.scale == "log":
            text += " · sizes on a log scale"
        return text


def _snapshots(trace):
    return [trace.initial] + [e.snapshot for e in trace.events] + [trace.final]


def _axis(ranges):
    from .layout import AddressAxis
    return AddressAxis(ranges)


def trace_focus(trace):
    """The addresses a trace's call touches: every process-1 VMA it changed (or the range
    of the mmap, from step S0), as (lo, hi), or None."""
    lo = hi = None
    for e in trace.events:
        for v in e.snapshot.set_views:
            if v.mm == 1:
                lo = v.start if lo is None else min(lo, v.start)
                hi = v.end if hi is None else max(hi, v.end)
    if lo is None:
        s0 = next((e for e in trace.events if e.step == "S0"), None)
        if s0 is not None and "start" in s0.data and "end" in s0.data:
            lo, hi = s0.data["start"], s0.data["end"]
    return None if lo is None else (lo, hi)


def trace_swatches(traces, snaps, axis, dense, band, band_axis, names=None) -> list:
    """One legend for every picture of these traces: what appears anywhere in them."""
    from .layout import has_gaps
    from .palette import layout_swatches, vma_kind, vma_states
    kinds, states, seen = set(), set(), set()
    for s in snaps:
        for c in getattr(s.vmas, "chunks", (tuple(s.vmas),)):
            if id(c) in seen:
                continue
            seen.add(id(c))
            for v in c:
                kinds.add(vma_kind(v, names))
                if band is None and not dense:
                    states |= vma_states(v)
    if band is not None:
        for s in snaps:
            for v in s.vmas.range(*band):
                states |= vma_states(v)
    if any(changed_vmas(t, i) for t in traces for i in range(len(t.events))):
        states.add("changed")
    seen_sets = {id(s.vmas): s for s in snaps}.values()
    if any(has_gaps(band_axis, s.vmas.range(*band), band) if band else
           (not dense and has_gaps(axis, s.vmas)) for s in seen_sets):
        states.add("unmapped")
    return layout_swatches(kinds, states)


def layout_alt(snap, changed, band=None, names=None) -> str:
    """The layout picture in words: every VMA when few, a summary and the band when many."""
    vmas = snap.vmas
    n = len(vmas)
    if not n:
        return "Address space: no VMAs, nothing is mapped."
    head = f"Address space: {n:,} VMA{'s' if n != 1 else ''}"
    if changed:
        head += f" ({', '.join(f'vma#{i}' for i in sorted(changed))} changed by this step)"
    if n <= ALT_LIST_VMAS:
        return head + ". " + "; ".join(_vma_words(v, names) for v in vmas)
    near = list(vmas.range(*band)) if band else []
    return (f"{head}, from {vmas[0].start:#x} to {vmas[-1].end:#x}."
            + (" Around the call: " + "; ".join(_vma_words(v, names)
                                                for v in near[:ALT_LIST_VMAS])
               if near else ""))


def _vma_words(v, names=None) -> str:
    state = [s for s, on in (("write-locked", v.write_locked), ("hidden from rmap", v.hidden),
                             ("detached", v.detached),
                             ("not in the VMA tree", v.inflight and not v.detached)) if on]
    name = (names or {}).get(v.id)
    what = v.file or (f"anon {name}" if name else "anon")
    return (f"{v.label} [{v.start:#x},{v.end:#x}) {v.perms} {what}"
            + (f" ({', '.join(state)})" if state else ""))


# --- a frame without a builder -------------------------------------------------------------------------

def frame_at(trace, i, **kw) -> Frame:
    """The Frame of event i of `trace`, from a builder made for the call (a view that shows
    many frames keeps one FrameBuilder: it draws each picture once)."""
    return FrameBuilder(trace, **kw).frame(i)
