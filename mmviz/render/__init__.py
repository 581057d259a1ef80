"""Pure functions from a snapshot or trace to text, SVG, PNG, HTML or DOT.

Only the text renderer is imported eagerly; the others import matplotlib, graphviz or
pygments when first used.
"""

from .text import ascii_strip, transcript

__all__ = ["ascii_strip", "transcript"]
