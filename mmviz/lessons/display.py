"""Live or static: what a lesson cell displays in a notebook (widgets) and in the slides
(`MMVIZ_STATIC=1`: plain HTML, above all the self-contained HTML stepper)."""

from __future__ import annotations

import html
import os

STATIC_ENV = "MMVIZ_STATIC"
STEPPER_HEIGHT = 520        # px: fits a 1024x768 slide under a title and two lines


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


def _png(data: bytes):
    from IPython.display import Image
    _display(Image(data=data, format="png"))


# On a 1024x768 slide the stepper page is shown smaller, without its own title and
# description (the slide has them), and with its panes in two columns (or one, narrow).
_SLIDE_CSS = ("<style>body{zoom:%(zoom)s;padding:4px 8px 8px}"
              "h1,.mmviz-desc,.mmviz-keys{display:none}"
              ".mmviz-grid{grid-template-columns:%(grid)s!important}</style>")


def _iframe(doc: str, height: int, title: str, zoom: float, columns: int) -> str:
    grid = "minmax(0,3fr) minmax(0,2fr)" if columns == 2 else "minmax(0,1fr)"
    doc = doc.replace("</head>", _SLIDE_CSS % {"zoom": zoom, "grid": grid} + "</head>", 1)
    return (f'<iframe class="mmviz-stepper" title="{html.escape(title)}" '
            f'style="width:100%;height:{int(height)}px;border:1px solid #ccc" '
            f'srcdoc="{html.escape(doc, quote=True)}"></iframe>')


def stepper_iframe(trace, height: int = STEPPER_HEIGHT, zoom: float = 0.64,
                   columns: int = 2) -> str:
    """The self-contained HTML stepper of `trace` (mmviz.render.stepper_html), sized for a
    slide and wrapped in an iframe (srcdoc), so it steps without a kernel or a network."""
    from ..render.stepper_html import stepper_html
    return _iframe(stepper_html(trace), height,
                   f"stepper: {trace.scenario} ({trace.kernel})", zoom, columns)


def show_stepper(trace, height: int = STEPPER_HEIGHT, **kw):
    """Step through `trace`: the Stepper widget live, the HTML stepper in the slides."""
    if static_mode():
        _html(stepper_iframe(trace, height))
        return
    from ..widgets import Stepper
    _display(Stepper(trace, **kw))


def show_compare(trace_a, trace_b, height: int = STEPPER_HEIGHT):
    """Two traces side by side: the Compare widget live, two HTML steppers in the slides."""
    if static_mode():
        from .traces import result_words
        cols = "".join(
            f"<div><h4>{html.escape(t.kernel)}: {html.escape(result_words(t))}</h4>"
            f"{stepper_iframe(t, height - 40, zoom=0.5, columns=1)}</div>"
            for t in (trace_a, trace_b))
        _html(f'<div class="mmviz-compare">{cols}</div>')
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


def show_layout(world_or_snapshot, *, names=None, title=None, figsize=(9.6, 2.4), rows=None,
                highlight=None):
    """Draw an address space (a World or a Snapshot) as a PNG sized for a 1024x768 slide."""
    from ..render.layout import layout_png
    from .traces import snapshot_of
    snap = world_or_snapshot
    if hasattr(world_or_snapshot, "mm"):
        snap = snapshot_of(world_or_snapshot)
        if names is None:
            names = {v.id: v.anon_name for v in world_or_snapshot.vmas() if v.anon_name}
    _png(layout_png(snap, names=names, title=title, figsize=figsize, rows=rows,
                    highlight=highlight))


def show_before_after(trace, figsize=(9.6, 4.2)):
    """The address space before and after the recorded call, changed VMAs marked."""
    from ..render.layout import before_after_png
    _png(before_after_png(trace, figsize=figsize))


def show_timeline(trace, width: float = 9.6, scale: float = 1.0):
    """The lock timeline of `trace` as a PNG (a race: a group of lanes per task, its waits)."""
    from ..render.timeline import timeline_picture
    _png(timeline_picture(trace, width=width, scale=scale).png)


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
