"""The panes a view is made of, each fed from a `mmviz.render.frame.Frame`.

Nothing is drawn here: every picture and every mark comes from the frame builder. A pane
only decides which widget value to set, and sets it only when the frame changed it:

- `LayoutPane`: an Image; its PNG changes when the frame's layout picture does;
- `TimelinePane`: the trace's timeline image, set once, and over it (same grid cell) a small
  HTML cursor that each frame moves;
- `MarksPane`: one hidden `<style>` with the frame's CSS marks (the current call graph node,
  the current source line), scoped to the view's own class;
- `SourcePane`: the current function's highlighted block (changes per function).
"""

from __future__ import annotations

import html

import ipywidgets as W


class LayoutPane:
    """The layout picture, and its one-line summary as text above it (`box` holds both)."""

    def __init__(self, cls="mmviz-layout", width="100%"):
        self.widget = W.Image(format="png", layout=W.Layout(max_width="100%", width=width))
        self.widget.add_class(cls)
        self.caption = W.HTML("", layout=W.Layout(margin="0 0 -4px 0"))
        self.caption.add_class(f"{cls}-caption")
        self.box = W.VBox([self.caption, self.widget])
        self._key = self._caption = None

    def show(self, frame):
        if frame.layout_key != self._key:
            self.widget.value = frame.layout_png
            self._key = frame.layout_key
        if frame.layout_caption != self._caption:
            self.caption.value = (
                "<div style='display:flex;justify-content:space-between;gap:8px;"
                "font-size:11px;color:#444'><b style='font-size:12px'>address space "
                "<span style='font-weight:normal'>(changed by this step: vermillion halo ▼)"
                f"</span></b><span>{html.escape(frame.layout_caption)}</span></div>")
            self._caption = frame.layout_caption


class TimelinePane:
    """The timeline picture drawn once; a cursor moved over it in the same grid cell."""

    def __init__(self, builder, cls="mmviz-timeline", title="lock timeline", picture=None):
        pic = picture or builder.timeline
        self.image = W.Image(value=pic.png, format="png",
                             layout=W.Layout(grid_area="tl", width="100%", max_width="100%"))
        self.image.add_class(cls)
        self.cursor = W.HTML("", layout=W.Layout(grid_area="tl", width="100%", height="100%",
                                                 margin="0", padding="0"))
        self.cursor.add_class(f"{cls}-cursor")
        self.grid = W.GridBox([self.image, self.cursor], layout=W.Layout(
            grid_template_areas='"tl"', grid_template_columns="100%", width="100%"))
        self.grid.add_class(f"{cls}-box")
        self.widget = (W.VBox([W.HTML(f"<b style='font-size:12px;color:#444'>{title}</b>"),
                               self.grid]) if title else self.grid)

    def show(self, frame):
        self.cursor.value = ("<div style='position:relative;width:100%;height:100%;"
                             f"pointer-events:none'>{frame.cursor_html}</div>")


class MarksPane:
    """The frame's CSS marks in a hidden <style> (it applies wherever it sits)."""

    def __init__(self):
        self.widget = W.HTML("", layout=W.Layout(display="none"))
        self.widget.add_class("mmviz-marks")

    def show(self, frame):
        css = "\n".join(c for c in (frame.callgraph_css, frame.source_css,
                                     frame.callgraph_focus_css) if c)
        self.widget.value = f"<style>{css}</style>" if css else ""


class SourcePane:
    def __init__(self, builder, layout):
        self.builder = builder
        self.widget = W.HTML("", layout=layout)
        self.widget.add_class("mmviz-source")
        self._block = None

    def show(self, frame):
        if frame.source_block != self._block:
            self.widget.value = self.builder.source_blocks()[frame.source_block]
            self._block = frame.source_block
