"""Shared matplotlib plumbing for the picture renderers: an Agg-backed Figure, output to bytes.

No pyplot anywhere: pyplot keeps global figure state, which two notebooks (or a notebook
and an export) would share. Importing this module imports matplotlib, so only the picture
modules import it, never `import mmviz` or `import mmviz.render`.
"""

from __future__ import annotations

import io

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

# Okabe & Ito (2008), "Color Universal Design": eight colours distinguishable by readers
# with the common colour-vision deficiencies. Every colour here is paired with a hatch,
# an outline style or a marker shape, so nothing is told by colour alone.
OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
    "grey": "#8C8C8C",
}

# Fonts: DejaVu Sans ships with matplotlib, so a picture looks the same everywhere.
RC = {
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "svg.fonttype": "none",        # text stays text in SVG: smaller, searchable, accessible
    "svg.hashsalt": "mmviz",       # stable ids inside SVG output (clip paths, hatches)
    "hatch.linewidth": 0.8,
    "path.simplify": True,
}

DPI = 100
SVG_FONTS = "font-family: 'DejaVu Sans', 'Bitstream Vera Sans', Verdana, 'Segoe UI', sans-serif"


def new_figure(figsize) -> Figure:
    fig = Figure(figsize=figsize, dpi=DPI)
    FigureCanvasAgg(fig)
    return fig


def to_png(fig, dpi=DPI) -> bytes:
    import matplotlib
    buf = io.BytesIO()
    with matplotlib.rc_context(RC):
        fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    return buf.getvalue()


def to_svg(fig) -> str:
    import matplotlib
    buf = io.StringIO()
    with matplotlib.rc_context(RC):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    # Text stays text: give browsers without DejaVu Sans a font of similar width, not Times.
    return buf.getvalue().replace("font-family: 'DejaVu Sans'", SVG_FONTS)


def rc():
    """The rc settings every picture is drawn under (use as a context manager)."""
    import matplotlib
    return matplotlib.rc_context(RC)


def human_bytes(n: int) -> str:
    """4096 -> '4 KiB', 3 * 2**30 -> '3 GiB', keeping at most three significant digits."""
    units = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB")
    value = float(n)
    for unit in units:
        if value < 1024 or unit == units[-1]:
            if value == int(value) or value >= 100:
                return f"{value:.0f} {unit}"
            return f"{value:.3g} {unit}"
        value /= 1024
    return f"{n} B"  # pragma: no cover


def to_png_compact(fig, dpi=150, colors=96) -> bytes:
    """PNG at `dpi`, reduced to a palette of `colors` (Pillow ships with matplotlib): about a
    third of the bytes of the full-colour PNG, for pages that embed many frames."""
    data = to_png(fig, dpi=dpi)
    try:
        from PIL import Image
    except ImportError:          # pragma: no cover - matplotlib requires Pillow
        return data
    im = Image.open(io.BytesIO(data)).convert("RGB").quantize(colors=colors)
    out = io.BytesIO()
    im.save(out, format="PNG", optimize=True)
    return out.getvalue()
