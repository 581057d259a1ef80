"""The source pane: the model's own Python for the function a step is in, its current line
marked, headed by the kernel file and function it mirrors.

Driver hooks reached through a pointer (`vm_ops->mapped`, ...) are driver code, not part of
the modelled kernel: they get a short card that says what the hook is for instead.
HTML uses inline styles only (Pygments `noclasses=True`), so it survives export, Jupyter
output sanitising and being pasted into slides.
"""

from __future__ import annotations

import functools
import html
import importlib
import inspect
import pkgutil
import re
from dataclasses import dataclass

from .palette import FAITH_COLOURS as _FAITH_COLOURS, HOOK_EDGE, NOW as HL_COLOUR

HOOK_CARDS = {
    "f_op->mmap_prepare": (
        "The file's .mmap_prepare hook, reached through file->f_op.",
        "The driver describes the mapping in a vm_area_desc — flags, vm_ops, private data and "
        "an mmap_action to run later — before any VMA exists. If it fails there is nothing to "
        "undo: __mmap_region returns the error and nothing was built."),
    "f_op->mmap": (
        "The deprecated .mmap hook, reached through file->f_op.",
        "Called with the VMA already allocated. Whatever it changes (vm_flags, vm_ops) comes "
        "after the merge decision, and if it fails the half-built VMA must be torn down."),
    "vm_ops->mapped": (
        "The VMA's vm_ops->mapped hook, reached through vma->vm_ops.",
        "Called once for a newly created VMA, after the action completed, while mmap_lock is "
        "held for write. It may fail: the error path then unmaps the new VMA. A merged mapping "
        "never gets this call."),
    "vm_ops->close": (
        "The VMA's vm_ops->close hook, reached through vma->vm_ops.",
        "Called when a VMA is removed (unmapped, or replaced by MAP_FIXED), after its pages "
        "and page tables were zapped; from here the old mapping cannot come back."),
    "success_hook": (
        "The mmap_action's success_hook, a pointer the driver set in prepare.",
        "Called after the action (a PFN remap, an I/O remap, inserting pages) succeeded on the "
        "new VMA. What happens to its error differs between the kernel variants."),
    "error_hook": (
        "The mmap_action's error_hook, a pointer the driver set in prepare.",
        "Called when the action failed, so the driver can clean up or change the error "
        "returned; the VMA is unmapped on this path."),
}

_BOX = ("font-family: 'DejaVu Sans', 'Segoe UI', sans-serif; font-size: 13px; line-height: 1.4; "
        "border: 1px solid #cccccc; border-radius: 6px; background: #ffffff; overflow: hidden;")
_HEAD = "padding: 6px 10px; background: #f2f2f2; border-bottom: 1px solid #dddddd;"
_BADGE = ("display: inline-block; padding: 0 6px; margin-left: 6px; border-radius: 8px; "
          "font-size: 11px; border: 1px solid {c}; color: {c};")


@dataclass(frozen=True)
class FunctionSource:
    """One model function's source and what it mirrors."""

    name: str
    module: str                 # "mmviz.model.mmap_region"
    file: str                   # "mmviz/model/mmap_region.py"
    start: int                  # line number of the first source line (the decorator)
    lines: tuple                # source lines, without newlines
    kernel_source: str | None   # "mm/vma.c"
    faithfulness: str | None    # "faithful" / "simplified" / "stub"

    def def_line(self) -> int:
        for k, text in enumerate(self.lines):
            if text.lstrip().startswith(("def ", "async def ")):
                return self.start + k
        return self.start


@functools.lru_cache(maxsize=None)
def _model_index() -> dict:
    """Function name -> [(module name, function)] over every module of mmviz.model."""
    from .. import model
    index = {}
    for info in pkgutil.iter_modules(model.__path__):
        mod = importlib.import_module(f"{model.__name__}.{info.name}")
        for name, obj in vars(mod).items():
            if inspect.isfunction(obj) and obj.__module__ == mod.__name__:
                index.setdefault(name, []).append((mod.__name__, obj))
    return index


def _module_of_file(path):
    if not path or not path.endswith(".py"):
        return None
    return path[:-3].replace("/", ".").replace("\\", ".")


@functools.lru_cache(maxsize=None)
def find_function(fn: str, file: str | None = None, kernel_source: str | None = None):
    """The model's FunctionSource for `fn` (None if the model has no such function).

    file narrows it to one module; kernel_source breaks ties between same-named functions.
    """
    candidates = _model_index().get(fn, [])
    mod_name = _module_of_file(file)
    if mod_name:
        narrowed = [c for c in candidates if c[0] == mod_name]
        candidates = narrowed or candidates
    if len(candidates) > 1 and kernel_source:
        narrowed = [c for c in candidates if getattr(c[1], "__kernel_source__", None) == kernel_source]
        candidates = narrowed or candidates
    if not candidates:
        return None
    mod_name, obj = candidates[0]
    target = inspect.unwrap(obj)
    try:
        lines, start = inspect.getsourcelines(target)
    except (OSError, TypeError):
        return None
    return FunctionSource(fn, mod_name, mod_name.replace(".", "/") + ".py", start,
                          tuple(line.rstrip("\n") for line in lines),
                          getattr(obj, "__kernel_source__", None),
                          getattr(obj, "__faithfulness__", None))


def _all_functions(mod_name: str) -> list:
    """(name, function) of every function defined in a model module."""
    return [(n, obj) for n, objs in _model_index().items() for m, obj in objs if m == mod_name]


@functools.lru_cache(maxsize=None)
def body_at(mod_name: str, line: int):
    """The model function of a module whose source holds `line` (a variant's body of a kernel
    function, e.g. `_finish_v3` of mmap_action_finish), as a FunctionSource, or None."""
    for name, obj in _all_functions(mod_name):
        target = inspect.unwrap(obj)
        try:
            lines, start = inspect.getsourcelines(target)
        except (OSError, TypeError):
            continue
        if start <= line < start + len(lines):
            return FunctionSource(name, mod_name, mod_name.replace(".", "/") + ".py", start,
                                  tuple(x.rstrip("\n") for x in lines),
                                  getattr(obj, "__kernel_source__", None),
                                  getattr(obj, "__faithfulness__", None))
    return None


# Lines of the model that are its own wiring, not kernel code: the trace's events, the
# tests' fault injection, the choice of a kernel version's body.
_WIRING = re.compile(r"\bemit\(|\b_step\(|\bfaults\.|\.fail\.get\(|\bvariant\.|\bcompletion ==|"
                     r"\bcompletion = |\b_finish_(v3|v4|baseline)\(")
_DOC = ('"' * 3, "'" * 3)


@functools.lru_cache(maxsize=None)
def wiring_lines(fs) -> frozenset:
    """Absolute line numbers of the model's wiring in a function (see _WIRING); a statement
    spread over several lines counts whole."""
    out, depth = set(), 0
    for k, text in enumerate(fs.lines):
        code = text.split("#", 1)[0]
        if depth or _WIRING.search(code):
            out.add(fs.start + k)
            depth = max(0, depth + code.count("(") - code.count(")"))
    return frozenset(out)


def _is_code(text: str) -> bool:
    t = text.strip()
    return bool(t) and not t.startswith(("#", "@", "def ") + _DOC)


def _body_start(fs) -> int:
    """The first line after a function's def and docstring."""
    k = next((i for i, t in enumerate(fs.lines)
              if t.lstrip().startswith(("def ", "async def "))), 0) + 1
    if k < len(fs.lines) and fs.lines[k].strip().startswith(_DOC):
        q = fs.lines[k].strip()[:3]
        if fs.lines[k].strip().count(q) < 2:
            k += 1
            while k < len(fs.lines) and q not in fs.lines[k]:
                k += 1
        k += 1
    return fs.start + k


def kernel_line(fs, line, forward=False):
    """The nearest line of kernel-mirror code to `line` when `line` is the model's wiring:
    the statement before it (what the event reports has just happened), or after it for an
    event that announces what comes next (forward)."""
    wiring = wiring_lines(fs)
    if line not in wiring:
        return line
    first = _body_start(fs)
    order = (range(line + 1, fs.start + len(fs.lines)) if forward
             else range(line - 1, first - 1, -1))
    for n in order:
        if n not in wiring and n >= first and _is_code(fs.lines[n - fs.start]):
            return n
    if not forward:          # nothing before it: the next kernel line, then the def
        return kernel_line(fs, line, True) if line != fs.def_line() else line
    return fs.def_line()


def is_hook(fn: str) -> bool:
    return "->" in fn or fn in HOOK_CARDS


def frame_of(frame_or_event):
    """(frame or None, event or None): the innermost frame of an event, or the frame itself."""
    if hasattr(frame_or_event, "snapshot"):
        stack = frame_or_event.snapshot.stack
        return (stack[-1] if stack else None), frame_or_event
    return frame_or_event, None


def resolve(frame_or_event):
    """What the source pane shows for a frame or event: ("hook", fn, None, None),
    ("user", None, None, None), ("source", fn, FunctionSource, line) or ("missing", fn, ...)."""
    frame, event = frame_of(frame_or_event)
    if frame is None:
        return ("user", None, None, None)
    if is_hook(frame.fn):
        return ("hook", frame.fn, None, None)
    hint = frame.kernel_source
    if hint is None and event is not None and event.kind == "call" and event.fn == frame.fn:
        hint = event.data.get("source")
    fs = find_function(frame.fn, frame.file, hint)
    if fs is None:
        return ("missing", frame.fn, None, None)
    line = frame.line
    if line is not None and not (fs.start <= line < fs.start + len(fs.lines)):
        body = body_at(fs.module, line)     # a kernel version's body of this function
        if body is not None and body.name != fs.name:
            return ("source", frame.fn, _as_body_of(body, fs), line)
    if line is None or not (fs.start <= line < fs.start + len(fs.lines)):
        line = fs.def_line()        # just called, or returning: the function as a whole
    return ("source", frame.fn, fs, line)


@dataclass(frozen=True)
class BodySource(FunctionSource):
    """A kernel version's body of a kernel function (`_finish_v3` of mmap_action_finish)."""

    of: str = ""                 # the kernel function it is the body of


def _as_body_of(body, fs):
    return BodySource(body.name, body.module, body.file, body.start, body.lines,
                      fs.kernel_source, fs.faithfulness, fs.name)


def _header(fs: FunctionSource, line: int | None) -> str:
    ks = html.escape(fs.kernel_source or "kernel")
    faith = fs.faithfulness or ""
    badge = ""
    if faith:
        c = _FAITH_COLOURS.get(faith, "#555555")
        badge = f'<span style="{_BADGE.format(c=c)}">{html.escape(faith)}</span>'
    where = f"{fs.file}:{line}" if line else fs.file
    of = getattr(fs, "of", "")
    name = (f"<b>{html.escape(of)}()</b> <span style='color:#555555'>as this kernel version "
            f"has it (the model's <code>{html.escape(fs.name)}</code>)</span>" if of
            else f"<b>{html.escape(fs.name)}()</b>")
    key = (' · <span class="mmviz-wiring-key">lines marked <i>◂ model wiring</i> are the '
           "model's own (trace events, fault injection, the choice of a kernel version), "
           "not kernel code</span>" if wiring_lines(fs) else "")
    return (f'<div style="{_HEAD}"><div>{name} '
            f'<span style="color:#555555">mirrors</span> <code>{ks}</code>{badge}</div>'
            f'<div style="font-size: 11px; color: #666666">model source: '
            f'<code class="mmviz-src-where">{html.escape(where)}</code>{key}</div></div>')


@functools.lru_cache(maxsize=None)
def _style():
    """Pygments' default colours; the marked line in Okabe–Ito yellow, line numbers grey."""
    from pygments.styles.default import DefaultStyle

    class MmvizStyle(DefaultStyle):
        highlight_color = HL_COLOUR
        line_number_color = "#888888"

    return MmvizStyle


def code_html(fs: FunctionSource, hl_line: int | None = None, linespans: str | None = None) -> str:
    """Pygments HTML of the function, inline styles, the absolute line `hl_line` marked.

    linespans: a prefix; each line is then wrapped in <span id="PREFIX-N"> (N = the file's
    line number: Pygments counts from linenostart) so a page can move the mark without
    re-highlighting.
    """
    from pygments import highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import PythonLexer

    hl = [hl_line - fs.start + 1] if hl_line else []
    fmt = HtmlFormatter(noclasses=True, style=_style(), hl_lines=hl,
                        linenos="inline", linenostart=fs.start, lineseparator="\n",
                        linespans=linespans or "", nobackground=True,
                        prestyles="margin: 0; padding: 6px 0; font-size: 12px; "
                                  "font-family: 'DejaVu Sans Mono', Menlo, Consolas, monospace")
    text = "\n".join(fs.lines) + "\n"
    out = highlight(text, PythonLexer(), fmt)
    return _mark_wiring(out, fs, linespans) if linespans else out


_WIRING_NOTE = ('<span style="font-style: italic; color: #6b6b6b; font-size: 11px"> '
                '\u25c2 model wiring</span>')


def _mark_wiring(out: str, fs, prefix: str) -> str:
    """Grey the model's wiring lines and say so at the end of each (words, not only colour)."""
    for n in sorted(wiring_lines(fs)):
        opening = f'<span id="{prefix}-{n}">'
        at = out.find(opening)
        end = out.find("\n", at) if at >= 0 else -1
        if end < 0:
            continue
        line = out[at + len(opening):end]
        close = line.rfind("</span>")
        if close < 0:
            continue
        out = (out[:at] + f'<span id="{prefix}-{n}" class="mmviz-wiring" style="opacity: 0.6"'
               f' title="model wiring, not kernel code">' + line[:close] + _WIRING_NOTE
               + "</span>" + out[end:])
    return out


def hook_card(fn: str) -> str:
    title, body = HOOK_CARDS.get(fn, (f"{fn}: a driver callback reached through a function pointer.",
                                      "Driver code, not the modelled kernel."))
    return (f'<div class="mmviz-source mmviz-hook-card" style="{_BOX}">'
            f'<div style="{_HEAD}"><b>{html.escape(fn)}</b> '
            f'<span style="{_BADGE.format(c=HOOK_EDGE)}">via pointer</span></div>'
            f'<div style="padding: 8px 10px; background: #FDF3DC">'
            f'<p style="margin: 0 0 6px 0"><b>{html.escape(title)}</b></p>'
            f'<p style="margin: 0 0 6px 0">{html.escape(body)}</p>'
            f'<p style="margin: 0; color: #555555; font-size: 12px">No model source: this is the '
            f'driver\'s code. The model calls the stand-in drivers of '
            f'<code>mmviz/model/drivers.py</code> here, through <code>call_hook()</code>.</p>'
            f'</div></div>')


def user_card() -> str:
    return (f'<div class="mmviz-source mmviz-user-card" style="{_BOX}">'
            f'<div style="{_HEAD}"><b>user space</b></div>'
            f'<div style="padding: 8px 10px">The scenario\'s own program: no kernel function is '
            f'running at this step.</div></div>')


def source_html(frame_or_event) -> str:
    """The source pane for a Frame (or the innermost frame of an Event), as an HTML fragment."""
    kind, fn, fs, line = resolve(frame_or_event)
    if kind == "user":
        return user_card()
    if kind == "hook":
        return hook_card(fn)
    if kind == "missing":
        return (f'<div class="mmviz-source" style="{_BOX}"><div style="{_HEAD}"><b>'
                f'{html.escape(fn)}()</b></div><div style="padding: 8px 10px">The model has no '
                f'source for this function.</div></div>')
    return (f'<div class="mmviz-source" style="{_BOX}">{_header(fs, line)}'
            f'<div style="overflow-x: auto">{code_html(fs, line)}</div></div>')


# --- a block per function, its current line marked by CSS --------------------------------------

def block_key(frame_or_event):
    """What identifies the source block an event shows (one block per function or card)."""
    kind, fn, fs, _ = resolve(frame_or_event)
    return (kind, fn, (fs.module, fs.name) if fs else None)


def source_block(frame_or_event, prefix: str) -> str:
    """The source pane's block for this event's function, highlighted once: every line is a
    <span id="PREFIX-N"> (N = the file's line number) so `line_css` can mark one without
    highlighting the function again. Hooks and user space get their cards."""
    kind, fn, fs, _ = resolve(frame_or_event)
    if kind == "source":
        return (f'<div class="mmviz-source" style="{_BOX}">{_header(fs, None)}'
                f'<div style="overflow-x: auto">{code_html(fs, None, linespans=prefix)}</div>'
                f'</div>')
    if kind == "hook":
        return hook_card(fn)
    if kind == "user":
        return user_card()
    return (f'<div class="mmviz-source" style="{_BOX}"><div style="{_HEAD}"><b>'
            f'{html.escape(fn or "?")}()</b></div><div style="padding: 8px 10px">The model has '
            f'no source for this function.</div></div>')


def source_line(frame_or_event):
    """(line number to mark or None, 'file:line' or '') for an event's current frame. The
    model's wiring is never marked as if it were kernel code: an event a wiring line emits
    marks the kernel-mirror line next to it (see kernel_line)."""
    kind, fn, fs, line = resolve(frame_or_event)
    if kind != "source":
        return None, ""
    _, event = frame_of(frame_or_event)
    forward = event is not None and getattr(event, "what", "") == "step"
    line = kernel_line(fs, line, forward)
    return line, f"{fs.file}:{line}"


def line_css(prefix: str, line, scope: str = "") -> str:
    """CSS marking line `line` of the block whose spans start with `prefix` (Okabe–Ito
    yellow, outlined, as the one-shot source_html marks it)."""
    if not line:
        return ""
    return (f"{scope} #{prefix}-{line} {{ background: {HL_COLOUR}; "
            f"outline: 1px solid #b8a800; }}").strip()

