"""Pure functions from a snapshot or trace to text, SVG, PNG, HTML or DOT.

No widget code, no pyplot (figures are `matplotlib.figure.Figure` on the Agg canvas), and
nothing here changes a trace. Only the text renderer is imported by `import mmviz.render`;
each picture module imports matplotlib, Pygments or runs Graphviz when it is first used:

| module | functions |
| --- | --- |
| `frame` | `FrameBuilder(trace, width, scale, ...)`, `frame_at(trace, i)` — everything a view shows at one event; every view uses it |
| `palette` | the one palette and legend (Okabe–Ito colours, hatches, outlines, markers) |
| `narration` | `sentence(event, variant)` — every sentence, in one place |
| `narration_html` | the sentences laid out as HTML: narration, banner, step label, header |
| `text` | `ascii_strip(vmas)`, `transcript(trace)`, `lock_timeline_text(trace)` — the reference renderer |
| `layout` | `layout_figure(snapshot, *, highlight, title, figsize, axis, rows, names, focus, scale)`, `layout_png`, `layout_svg`, `before_after_figure`, `before_after_png`, `LayoutPainter`, `axis_for` |
| `timeline` | `timeline_figure(trace, cursor, figsize, *, intervals, scale)`, `timeline_png`, `timeline_svg`, `timeline_picture(trace)` (drawn once; the cursor overlaid), `axes_pixel_box(fig)` |
| `callgraph` | `callgraph_dot(trace, cursor)`, `callgraph_svg(trace, cursor)` (Graphviz, or a plain drawing without it), `highlight_css(tree, node)`, `callstack_svg(trace, i)` |
| `source` | `source_html(frame_or_event)`, `source_block(event, prefix)` + `line_css` — the model's source, its line marked |
| `stepper_html` | `stepper_html(trace)` — one offline HTML page stepping through the frames |
| `export_formats` | `perfetto_json(trace)`, `vma_csv(snapshot)` |

Big address spaces: above `layout.DENSE_VMAS` VMAs the boxes are binned to pixels; above
`layout.BAND_VMAS`, a picture with a focus (the VMAs a call changed) is an overview of the
whole space plus a detail band around the focus, where the changed VMAs are labelled.

`from mmviz.render import layout_figure` (etc.) works too: the name is looked up lazily.
(The stepper is imported from its module, `from mmviz.render.stepper_html import
stepper_html`, because the package attribute `stepper_html` is that submodule.)
"""

from .text import ascii_strip, transcript

_LAZY = {
    "FrameBuilder": "frame", "frame_at": "frame",
    "layout_figure": "layout", "layout_png": "layout", "layout_svg": "layout",
    "before_after_figure": "layout", "before_after_png": "layout", "changed_vmas": "layout",
    "axis_for": "layout",
    "timeline_figure": "timeline", "timeline_png": "timeline", "timeline_svg": "timeline",
    "timeline_picture": "timeline", "lock_intervals": "timeline", "axes_pixel_box": "timeline",
    "callgraph_dot": "callgraph", "callgraph_svg": "callgraph", "call_tree": "callgraph",
    "callstack_svg": "callgraph",
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
