"""Shared matplotlib plumbing for the picture renderers: an Agg-backed Figure, output to bytes.

No pyplot anywhere: pyplot keeps global figure state, which two notebooks (or a notebook
and an export) would share. Importing this module imports matplotlib, so only the picture
modules import it, never `import mmviz` or `import mmviz.render`.
"""

from __future__ import annotations

import io

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

# Fonts: DejaVu Sans ships with matplotlib, so a picture looks the same everywhere.
RC = {
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "svg.fonttype": "none",        # text stays text in SVG: smaller, searchable, accessible
    "svg.hashsalt": "mmviz",       # stable ids inside SVG output (clip paths, hatches)
    "hatch.linewidth": 0.8,
    "path.simplify": True,
    # Unhinted glyphs: 40% less time per label (a stepper draws many), no visible loss at
    # these sizes on screen.
    "text.hinting": "no_hinting",
}

DPI = 100
SVG_FONTS = "font-family: 'DejaVu Sans', 'Bitstream Vera Sans', Verdana, 'Segoe UI', sans-serif"


def new_figure(figsize, dpi=DPI) -> Figure:
    fig = Figure(figsize=figsize, dpi=dpi)
    FigureCanvasAgg(fig)
    return fig


def to_png(fig, dpi=DPI) -> bytes:
    buf = io.BytesIO()
    with rc():
        fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    return buf.getvalue()


def to_svg(fig) -> str:
    buf = io.StringIO()
    with rc():
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    # Text stays text: give browsers without DejaVu Sans a font of similar width, not Times.
    return buf.getvalue().replace("font-family: 'DejaVu Sans'", SVG_FONTS)


class rc:
    """The rc settings every picture is drawn under (a context manager). Sets and restores
    only the keys of RC: matplotlib's rc_context copies all of rcParams, which costs more
    than a stepper's whole picture update."""

    def __enter__(self):
        import matplotlib
        params = matplotlib.rcParams
        self._old = {k: params[k] for k in RC}
        for k, v in RC.items():
            if self._old[k] != v:
                params[k] = v
        return self

    def __exit__(self, *exc):
        import matplotlib
        params = matplotlib.rcParams
        for k, v in self._old.items():
            if params[k] != v:
                params[k] = v


def canvas_png(canvas) -> bytes:
    """The pixels already on an Agg canvas as PNG, encoded fast: RGB, no row filter, zlib
    level 1 (about 2 ms for a 700 x 260 picture, a third of Pillow's time; 10-20% larger)."""
    import struct
    import zlib

    import numpy as np
    rgba = np.asarray(canvas.buffer_rgba())
    h, w, _ = rgba.shape
    raw = np.empty((h, 1 + 3 * w), np.uint8)
    raw[:, 0] = 0                                   # filter type 0 (none) on every row
    raw[:, 1:].reshape(h, w, 3)[...] = rgba[:, :, :3]     # one copy, RGBA -> RGB

    def chunk(tag, data):
        return (struct.pack(">I", len(data)) + tag + data
                + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 1)) + chunk(b"IEND", b""))


class TextStamps:
    """Text artists rasterised once and pasted where they recur (a cache, not a drawer).

    Drawing a four-line label with matplotlib's Agg costs about 5 ms; the same label at
    another place or in the next picture of a stepper is the same pixels. A text made with
    `stamped_text` carries the arguments it was made with; `draw(canvas, text)` renders
    those once on a transparent canvas, keeps the pixels, and alpha-blends them at the
    text's anchor (Agg places text on whole pixels, so the result is the same picture).
    The pixels are kept per process (bounded), keyed by text, style and dpi.
    """

    _shared: dict = {}
    LIMIT_BYTES = 24 << 20

    def __init__(self, dpi=DPI, limit=LIMIT_BYTES):
        self.dpi, self.limit = dpi, limit
        # One cache per dpi for the whole process: a label's pixels depend only on its
        # text and style, so every stepper (and every trace) shares them.
        self._cache = TextStamps._shared.setdefault(dpi, {})

    def draw(self, canvas, text):
        import numpy as np
        key = text._mmviz_key
        stamp = self._cache.get(key)
        if stamp is None:
            stamp = self._render(text)
            size = self._cache.get(None, 0) + stamp[0].nbytes
            if size > self.limit:            # full: start again (labels recur; cheap to redo)
                self._cache.clear()
                size = stamp[0].nbytes
            self._cache[key] = stamp
            self._cache[None] = size
        pixels, ax_, ay_ = stamp
        x, y = text.get_transform().transform(text.get_position())
        buf = np.asarray(canvas.buffer_rgba())
        H, W, _ = buf.shape
        top, left = int(round(H - y)) - ay_, int(round(x)) - ax_
        h, w, _ = pixels.shape
        t0, l0 = max(top, 0), max(left, 0)
        t1, l1 = min(top + h, H), min(left + w, W)
        if t1 <= t0 or l1 <= l0:
            return
        src = pixels[t0 - top:t1 - top, l0 - left:l1 - left]
        a = src[:, :, 3:4].astype(np.float32) / 255.0
        dst = buf[t0:t1, l0:l1, :3]
        dst[...] = (src[:, :, :3] * a + dst * (1.0 - a) + 0.5).astype(np.uint8)

    def _scratch(self):
        """A transparent canvas kept for rendering stamps (cleared before each)."""
        if getattr(self, "_fig", None) is None:
            self._fig = Figure(figsize=(16, 6), dpi=self.dpi, facecolor=(1, 1, 1, 0))
            FigureCanvasAgg(self._fig)
        return self._fig

    def _render(self, text):
        """(RGBA pixels, anchor column, anchor row) of the text alone, on transparency: drawn
        on a scratch canvas, where it has room on the side it grows to."""
        import numpy as np
        args, kw = text._mmviz_args
        fig = self._scratch()
        renderer = fig.canvas.get_renderer()
        renderer.clear()
        wpx, hpx = int(fig.bbox.width), int(fig.bbox.height)
        ax_px = {"left": 40, "right": wpx - 40}.get(kw.get("ha", "left"), wpx // 2)
        ay_px = {"bottom": 40, "baseline": 40, "top": hpx - 40}.get(kw.get("va", "baseline"),
                                                                   hpx // 2)
        t = fig.text(ax_px / fig.bbox.width, ay_px / fig.bbox.height, *args,
                     transform=fig.transFigure, **kw)
        try:
            with rc():
                t.draw(renderer)
                ext = t.get_window_extent(renderer)
                patch = t.get_bbox_patch()
                if patch is not None:
                    ext = ext.union([ext, patch.get_window_extent(renderer)])
        finally:
            t.remove()
        buf = np.asarray(renderer.buffer_rgba())
        H = buf.shape[0]
        x0, x1 = max(int(ext.x0) - 2, 0), min(int(ext.x1) + 3, buf.shape[1])
        r0, r1 = max(int(H - ext.y1) - 2, 0), min(int(H - ext.y0) + 3, H)
        return buf[r0:r1, x0:x1].copy(), ax_px - x0, (H - ay_px) - r0


def stamped_text(where, x, y, s, *, lite=False, **kw):
    """`where.text(x, y, s, **kw)` (an Axes or a Figure), remembering its arguments so a
    `TextStamps` cache can paste its pixels. Use for text that recurs between pictures.

    lite: for a painter that pastes every text as a stamp, a `StampedText` (the position and
    arguments only) instead of a Text artist, which takes longer to make than to paste."""
    style = {k: v for k, v in kw.items() if k not in ("zorder", "clip_on", "transform")}
    t = StampedText(where, x, y, kw.get("zorder", 3)) if lite else where.text(x, y, s, **kw)
    t._mmviz_args = ((s,), style)
    t._mmviz_key = (s, repr(sorted(style.items())))
    return t


class StampedText:
    """A text that is only ever pasted from `TextStamps`: where it goes, what it says."""

    def __init__(self, where, x, y, zorder):
        self._where, self._xy, self._zorder = where, (x, y), zorder

    def get_transform(self):
        return getattr(self._where, "transData", None) or self._where.transFigure

    def get_position(self):
        return self._xy

    def get_text(self):
        return self._mmviz_args[0][0]

    def get_zorder(self):
        return self._zorder

    def set_animated(self, _):
        pass

    def remove(self):
        pass


def min_font_px(fig, dpi=DPI) -> float:
    """The smallest visible text of a figure, in pixels of the image saved at `dpi` (its
    legend, tick labels and annotations included): what a lecture-room check measures."""
    from matplotlib.text import Text
    sizes = [t.get_fontsize() for t in fig.findobj(Text)
             if t.get_visible() and t.get_text().strip()]
    return round(min(sizes) * dpi / 72, 2) if sizes else 0.0


def compact_png(data: bytes, colors=96) -> bytes:
    """PNG bytes reduced to a palette of `colors` (about a third of the bytes)."""
    from PIL import Image
    im = Image.open(io.BytesIO(data)).convert("RGB").quantize(
        colors=colors, method=Image.Quantize.FASTOCTREE)
    out = io.BytesIO()
    im.save(out, format="PNG", compress_level=6)
    return out.getvalue()


def legend_handles(swatches, scale=1.0) -> list:
    """matplotlib legend handles for palette Swatches: a patch, or a marker."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    out = []
    for s in swatches:
        if s.marker:
            out.append(Line2D([], [], marker=s.marker, ls="none", color=s.face,
                              markeredgecolor=s.edge, markersize=8 * scale, label=s.label))
        else:
            out.append(Patch(facecolor=s.face, edgecolor=s.edge, hatch=s.hatch or None,
                             linestyle=s.linestyle, lw=s.lw, alpha=s.alpha if s.alpha < 1 else None,
                             label=s.label))
    return out
