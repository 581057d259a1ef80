"""What every mmviz widget shares: the error pane, the callback guard, weak callbacks and
closing a whole widget tree.

A callback that raises never leaves a traceback in the output area: `ErrorPane.guard`
catches the exception and shows one line in an `ipywidgets.HTML` with the CSS class
`mmviz-error`, which the next successful callback clears.

Memory is given back: a widget's buttons and sliders call it through `WeakCall` (they hold
it weakly, so a forgotten view can be collected), and `close_tree` closes every child
widget, not only the outer box (ipywidgets keeps every open widget in a global registry,
so an unclosed child keeps its pictures, and before this its parent, alive).
"""

from __future__ import annotations

import functools
import html
import itertools
import weakref

_SCOPES = itertools.count(1)


def scope_class() -> str:
    """A CSS class unique to one view, to scope the style marks of its frames."""
    return f"mmviz-w{next(_SCOPES)}"


class WeakCall:
    """A callback that calls `obj.<name>(*args)` while obj lives; holds obj weakly.

    pass_args: also pass what the caller passes (an observer's `change`); otherwise it is
    dropped (a button passes itself)."""

    __slots__ = ("_ref", "_name", "_args", "_pass")

    def __init__(self, obj, name, *args, pass_args=False):
        self._ref = weakref.ref(obj)
        self._name, self._args, self._pass = name, args, pass_args

    def __call__(self, *a, **kw):
        obj = self._ref()
        if obj is None:
            return None
        if self._pass:
            return getattr(obj, self._name)(*self._args, *a, **kw)
        return getattr(obj, self._name)(*self._args)


def close_tree(widget, close_root=None) -> None:
    """Close a widget and every widget under it (children, tabs), deepest first; drop the
    trait observers and click handlers so nothing calls back into a closed view.
    close_root: how to close `widget` itself (a subclass's close calling this passes its
    base class's close)."""
    seen = set()

    def walk(w):
        if id(w) in seen:
            return
        seen.add(id(w))
        for c in getattr(w, "children", ()) or ():
            walk(c)
        for attr in ("layout", "style"):        # these are widgets too, each in the registry
            part = getattr(w, attr, None)
            if part is not None and hasattr(part, "close"):
                walk(part)
        handlers = getattr(w, "_click_handlers", None)
        if handlers is not None:
            handlers.callbacks.clear()
        try:
            w.unobserve_all()
        except Exception:           # a widget without traits to unobserve
            pass
        if w is widget and close_root is not None:
            close_root()
        else:
            w.close()
    walk(widget)


def check_attempts(attempts) -> int:
    """A number of tries per question (1 or more), or an InputError saying so."""
    if isinstance(attempts, bool) or not isinstance(attempts, int) or attempts < 1:
        from ..model.errors import InputError
        raise InputError("attempts must be a whole number of tries, 1 or more")
    return attempts


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
