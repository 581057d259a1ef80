"""Pure functions from a snapshot or trace to text, SVG, PNG, HTML or DOT.

No widget code, no pyplot (figures are `matplotlib.figure.Figure` on the Agg canvas), and
nothing here changes a trace. Only the text renderer is imported by `import mmviz.render`;
each picture module imports matplotlib, Pygments or runs Graphviz when it is first used:

| module | functions |
| --- | --- |
| `text` | `ascii_strip(vmas)`, `transcript(trace)` — the reference renderer |
| `layout` | `layout_figure(snapshot, *, highlight, title, figsize, axis, rows, names)`, `layout_png`, `layout_svg`, `before_after_figure(trace)`, `changed_vmas(trace, i)`, `axis_for(snapshots)` |
| `timeline` | `timeline_figure(trace, cursor, figsize, *, intervals)`, `timeline_png`, `timeline_svg`, `lock_intervals(trace)`, `axes_pixel_box(fig)` |
| `callgraph` | `callgraph_dot(trace, cursor)`, `callgraph_svg(trace, cursor)` (Graphviz, or a plain drawing without it), `call_tree(trace)` |
| `source` | `source_html(frame_or_event)` — the model's source of the current function, its line marked |
| `stepper_html` | `stepper_html(trace)` — one offline HTML page stepping through every pane |
| `export_formats` | `perfetto_json(trace)`, `vma_csv(snapshot)` |

`from mmviz.render import layout_figure` (etc.) works too: the name is looked up lazily.
(The stepper is imported from its module, `from mmviz.render.stepper_html import
stepper_html`, because the package attribute `stepper_html` is that submodule.)
"""

from .text import ascii_strip, transcript

_LAZY = {
    "layout_figure": "layout", "layout_png": "layout", "layout_svg": "layout",
    "before_after_figure": "layout", "changed_vmas": "layout", "axis_for": "layout",
    "timeline_figure": "timeline", "timeline_png": "timeline", "timeline_svg": "timeline",
    "lock_intervals": "timeline", "axes_pixel_box": "timeline",
    "callgraph_dot": "callgraph", "callgraph_svg": "callgraph", "call_tree": "callgraph",
    "source_html": "source",
    "perfetto_json": "export_formats", "vma_csv": "export_formats",
}

__all__ = ["ascii_strip", "transcript", *_LAZY]


def __getattr__(name):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
