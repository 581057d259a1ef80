"""What every mmviz widget shares: the error pane and the callback guard.

A callback that raises never leaves a traceback in the output area: `ErrorPane.guard`
catches the exception and shows one line in an `ipywidgets.HTML` with the CSS class
`mmviz-error`, which the next successful callback clears.
"""

from __future__ import annotations

import functools
import html


def one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    msg = text[0] if text else ""
    name = type(exc).__name__
    from ..model.errors import MmvizError
    if isinstance(exc, MmvizError):      # our own errors are already sentences for the reader
        return msg or name
    return f"{name}: {msg}" if msg else name


class ErrorPane:
    def __init__(self):
        import ipywidgets as W
        self.widget = W.HTML("", layout=W.Layout(display="none"))
        self.widget.add_class("mmviz-error")
        self.last = None

    def show(self, message: str):
        self.last = message
        self.widget.value = ("<div style='background:#fdecea;color:#8a1c1c;border:1px solid "
                             "#f5c2c0;padding:4px 8px;font-size:13px'>⚠ "
                             f"{html.escape(message)}</div>")
        self.widget.layout.display = None

    def clear(self):
        if self.last is not None:
            self.last = None
            self.widget.value = ""
            self.widget.layout.display = "none"

    def guard(self, fn):
        """Wrap a callback: exceptions become one line in this pane, never a traceback."""
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            try:
                result = fn(*args, **kwargs)
            except Exception as exc:
                self.show(one_line(exc))
                return None
            return result
        return wrapper


class SliderCursor:
    """The cursor of a widget driven by `self.slider` (0..`self._last`): get, set, step."""

    _cursor_unit = "event"

    @property
    def index(self) -> int:
        return self.slider.value

    @index.setter
    def index(self, i: int):
        if isinstance(i, bool) or not isinstance(i, int):
            raise TypeError(f"index must be an integer {self._cursor_unit} number")
        self.slider.value = min(max(i, 0), self._last)

    def step(self, delta: int = 1):
        self.index = self.index + delta


def button(label, cls=None, tooltip="", width="auto", style=""):
    import ipywidgets as W
    b = W.Button(description=label, tooltip=tooltip or label,
                 layout=W.Layout(width=width, height="28px", padding="0 6px"))
    if style:
        b.button_style = style
    if cls:
        b.add_class(cls)
    return b
