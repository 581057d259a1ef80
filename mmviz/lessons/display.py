"""Live or static: what a lesson cell displays in a notebook (widgets) and in the slides
(`MMVIZ_STATIC=1`: plain HTML, above all the self-contained HTML stepper)."""

from __future__ import annotations

import html
import os

STATIC_ENV = "MMVIZ_STATIC"
STEPPER_HEIGHT = 560        # px: a 1280x720 slide under a title and two lines of text
COMPARE_HEIGHT = 600


def static_mode() -> bool:
    """True while the notebook is being executed for the offline slides."""
    return os.environ.get(STATIC_ENV, "") not in ("", "0")


def _display(obj):
    from IPython.display import display
    display(obj)


def _html(markup: str):
    # A raw bundle rather than IPython.display.HTML, which warns about every <iframe>.
    from IPython.display import display
    display({"text/html": markup}, raw=True)


def _png(data: bytes, min_font_px=None, alt=""):
    """A picture: PNG live; in the slides an <img> that says its smallest text (the lecture
    check measures it) and its text alternative."""
    if static_mode():
        import base64
        uri = "data:image/png;base64," + base64.b64encode(data).decode("ascii")
        _html(f'<img class="mmviz-picture" src="{uri}" alt="{html.escape(alt)}" '
              f'data-min-font-px="{min_font_px or 0}">')
        return
    from IPython.display import Image
    _display(Image(data=data, format="png"))


def _iframe(doc: str, height: int, title: str) -> str:
    return (f'<iframe class="mmviz-stepper" title="{html.escape(title)}" '
            f'style="width:100%;height:{int(height)}px;border:1px solid #ccc" '
            f'srcdoc="{html.escape(doc, quote=True)}"></iframe>')


def stepper_iframe(trace, height: int = STEPPER_HEIGHT, view: str = "layout") -> str:
    """The self-contained HTML stepper of `trace` in its lecture-room layout (one view at a
    time, pictures at a presentation scale: mmviz.render.stepper_html), wrapped in an iframe
    (srcdoc), so it steps on a slide without a kernel or a network."""
    from ..render.stepper_html import stepper_html
    return _iframe(stepper_html(trace, lecture=True, view=view), height,
                   f"stepper: {trace.scenario} ({trace.kernel})")


def _live_and_handout(live: str, handouts) -> str:
    """The interactive page for the screen and, for the printed handout, the key frames
    (the deck's style shows one or the other: `html.print-pdf`)."""
    return (f'<div class="mmviz-live">{live}</div>'
            + "".join(handouts))


def show_stepper(trace, height: int = STEPPER_HEIGHT, view: str = "layout", **kw):
    """Step through `trace`: the Stepper widget live; in the slides the lecture-room HTML
    stepper (opening on `view`: layout, timeline, source, callgraph or text), and its key
    frames for the PDF handout."""
    if static_mode():
        from ..render.handout import handout_html
        _html(_live_and_handout(stepper_iframe(trace, height, view), [handout_html(trace)]))
        return
    from ..widgets import Stepper
    _display(Stepper(trace, **kw))


def show_compare(trace_a, trace_b, height: int = COMPARE_HEIGHT):
    """Two traces side by side: the Compare widget live; in the slides one offline page with
    both runs' lock timelines on one aligned axis (mmviz.render.compare_html), and both
    runs' key frames for the handout."""
    if static_mode():
        from ..render.compare_html import compare_html
        from ..render.handout import handout_html
        doc = compare_html(trace_a, trace_b)
        live = _iframe(doc, height, f"compare: {trace_a.scenario} ({trace_a.kernel} and "
                                    f"{trace_b.kernel})")
        _html(_live_and_handout(live, [handout_html(t, title=f"{t.kernel}: {t.title}")
                                       for t in (trace_a, trace_b)]))
        return None
    from ..widgets import Compare
    _display(Compare(trace_a, trace_b))


def show_builder(**kw):
    """The Scenario Builder live; a pointer to it in the slides."""
    if static_mode():
        _html('<p class="mmviz-static-note">The Scenario Builder is interactive: open this '
              "lesson with <code>mmviz lab</code> (or on Binder) to compose your own "
              "scenario.</p>")
        return None
    from ..widgets import ScenarioBuilder
    _display(ScenarioBuilder(**kw))


LECTURE_WIDTH_IN = 12.1      # a picture across a 1280 px slide, shown 1:1
SLIDE_PICTURE_IN = 4.6       # a 720 px slide, less a title, two lines of text and a two-line note


def show_layout(world_or_snapshot, *, names=None, title=None, figsize=(9.6, 2.4), rows=None,
                highlight=None, ticks=None):
    """Draw an address space (a World or a Snapshot): in a notebook at `figsize`; in the
    slides across the slide at the lecture scale (its smallest text 18 px and more). A World
    gives its areas' names ([heap], [vdso]...), and with many VMAs the picture writes the
    addresses where rows and stretches start (ticks)."""
    from ..render._mpl import min_font_px
    from ..render.frame import layout_alt
    from ..render.layout import layout_figure
    from .traces import snapshot_of
    snap = world_or_snapshot
    if hasattr(world_or_snapshot, "mm"):
        snap = snapshot_of(world_or_snapshot)
        if names is None:
            names = {v.id: v.anon_name for v in world_or_snapshot.mm.mm_mt if v.anon_name}
    if ticks is None:
        ticks = len(snap.vmas) > 8
    scale = 1.0
    if static_mode():               # across the slide, fewer rows, text of 18 px and more
        from ..render.layout_axis import auto_rows
        from ..render.stepper_html import LECTURE_SCALE
        scale = LECTURE_SCALE
        rows = min(rows or auto_rows(len(snap.vmas)), 3)
        figsize = (LECTURE_WIDTH_IN, min(5.3, 1.6 + 1.25 * rows) if rows > 1 else 2.9)
    fig = layout_figure(snap, names=names, title=title, figsize=figsize, rows=rows,
                        highlight=highlight, scale=scale, ticks=ticks)
    _png(_to_png(fig), min_font_px(fig), layout_alt(snap, frozenset(highlight or ()),
                                                    names=names))


def _to_png(fig) -> bytes:
    from ..render._mpl import to_png
    return to_png(fig)


def show_before_after(trace, figsize=(9.6, 4.2)):
    """The address space before and after the recorded call, changed VMAs marked."""
    from ..render._mpl import min_font_px
    from ..render.layout import before_after_figure
    scale = 1.0
    if static_mode():
        from ..render.stepper_html import LECTURE_SCALE
        scale = LECTURE_SCALE
        figsize = (LECTURE_WIDTH_IN, 5.0)
    fig = before_after_figure(trace, figsize=figsize, scale=scale)
    from ..render.frame import layout_alt
    _png(_to_png(fig), min_font_px(fig),
         "Before: " + layout_alt(trace.initial, frozenset()) + " After: "
         + layout_alt(trace.final, frozenset()))


def show_timeline(trace, width: float = 9.6, scale: float = 1.0):
    """The lock timeline of `trace` as a PNG (a race: a group of lanes per task, its waits);
    in the slides across the slide at the lecture scale."""
    from ..render.timeline import timeline_picture
    max_height = None
    if static_mode():                # under a title and two lines of text on a 720 px slide
        from ..render.stepper_html import LECTURE_SCALE
        width, scale, max_height = LECTURE_WIDTH_IN, LECTURE_SCALE, SLIDE_PICTURE_IN
    pic = timeline_picture(trace, width=width, scale=scale, max_height=max_height)
    _png(pic.png, pic.min_font_px, pic.alt)


def show_rmap_walk(walk, world_or_snapshot=None, part: str = "both"):
    """An rmap walk (World.rmap_walk) drawn: the lanes of the processes it visits, the
    anon_vma tree (or the file's i_mmap order), or both; its text as the alternative. In the
    slides across the slide at the lecture scale (show the parts on separate slides there)."""
    from ..model.errors import InputError
    from ..render._mpl import min_font_px
    from ..render.rmap_view import rmap_walk_figure, rmap_walk_text
    from .traces import snapshot_of
    parts = {"both": ("lanes", "tree"), "lanes": ("lanes",), "tree": ("tree",)}.get(part)
    if parts is None:
        raise InputError(f"part must be 'both', 'lanes' or 'tree', not {part!r}")
    snap = snapshot_of(world_or_snapshot) if hasattr(world_or_snapshot, "mm") \
        else world_or_snapshot
    width, scale = 9.5, 1.0
    if static_mode():
        from ..render.stepper_html import LECTURE_SCALE
        width, scale = LECTURE_WIDTH_IN, LECTURE_SCALE
    fig = rmap_walk_figure(walk, snap, scale=scale, width=width, parts=parts)
    _png(_to_png(fig), min_font_px(fig), rmap_walk_text(walk))


def show_explorer(race, kernel: str = "v4", height: int = STEPPER_HEIGHT - 170):
    """A race's schedules judged: the Explorer widget live; in the slides the table and the
    HTML stepper of the shortest failing schedule (or of the serial run if none fails)."""
    if static_mode():
        from ..render.explore_html import exploration_html
        from ..scenarios import get_race, run_race
        from ..scenarios.explore import explore
        r = get_race(race) if isinstance(race, str) else race
        ex = explore(r, kernel)
        run = ex.shortest_failing or ex.serial
        _html(exploration_html(ex, run.switch_at)
              + stepper_iframe(run_race(r, kernel, schedule=run.schedule), height))
        return None
    from ..widgets import Explorer
    _display(Explorer(race, kernel))
