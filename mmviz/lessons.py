"""Small helpers the lesson notebooks call, so each cell stays one readable line.

Every `show_*` helper has two faces:
- in a live notebook (JupyterLab, Binder) it displays the interactive widget
  (`mmviz.widgets.Stepper`, `Compare`, `Predict`, `ScenarioBuilder`);
- when the notebook is executed for the slides (`mmviz slides` sets MMVIZ_STATIC=1) it
  displays plain HTML instead, above all the self-contained stepper of
  `mmviz.render.stepper_html`, which steps in a browser without a kernel.

This module belongs to the notebook layer: it may use widgets, render and trace, and
nothing below imports it. IPython and ipywidgets are imported only when a helper runs.
"""

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
    from .render.stepper_html import stepper_html
    return _iframe(stepper_html(trace), height,
                   f"stepper: {trace.scenario} ({trace.kernel})", zoom, columns)


# --- steppers --------------------------------------------------------------------------------

def show_stepper(trace, height: int = STEPPER_HEIGHT, **kw):
    """Step through `trace`: the Stepper widget live, the HTML stepper in the slides."""
    if static_mode():
        _html(stepper_iframe(trace, height))
        return
    from .widgets import Stepper
    _display(Stepper(trace, **kw))


def show_compare(trace_a, trace_b, height: int = STEPPER_HEIGHT):
    """Two traces side by side: the Compare widget live, two HTML steppers in the slides."""
    if static_mode():
        cols = "".join(
            f"<div><h4>{html.escape(t.kernel)}: {html.escape(_outcome(t))}</h4>"
            f"{stepper_iframe(t, height - 40, zoom=0.5, columns=1)}</div>"
            for t in (trace_a, trace_b))
        _html(f'<div class="mmviz-compare">{cols}</div>')
        return None
    from .widgets import Compare
    _display(Compare(trace_a, trace_b))


def say(trace, event) -> str:
    """The sentence that explains `event` (or event number `event`) of `trace`."""
    from .render.narration import sentence
    if isinstance(event, int):
        event = trace.events[event]
    return sentence(event, trace.kernel)


def _outcome(t) -> str:
    r = t.result
    return (r.summary() if r.outcome in ("deadlock", "build-error", "unsupported")
            else "returns " + r.summary())


def outcome(trace) -> str:
    """One line: what the recorded call returned and how many lock violations it had."""
    v = len(trace.violations)
    return (f"{trace.scenario} on {trace.kernel}: {_outcome(trace)}; "
            f"{v} lock violation{'s' if v != 1 else ''}"
            + (": " + "; ".join(x.kind for x in trace.violations) if v else ""))


# --- pictures ----------------------------------------------------------------------------------

def snapshot_of(world):
    """A frozen snapshot of a World now (what the renderers draw)."""
    from .trace import take_snapshot
    return take_snapshot(world)


def strip(world_or_snapshot, start=0, end=None) -> str:
    """The text picture of an address space: one letter per page, a legend per VMA."""
    from .render.text import ascii_strip
    snap = world_or_snapshot
    if hasattr(snap, "mm"):
        snap = snapshot_of(snap)
    vmas = [v for v in snap.vmas if v.end > start and (end is None or v.start < end)]
    return ascii_strip(vmas)


def show_layout(world_or_snapshot, *, names=None, title=None, figsize=(9.6, 2.4), rows=None,
                highlight=None):
    """Draw an address space (a World or a Snapshot) as a PNG sized for a 1024x768 slide."""
    from IPython.display import Image
    from .render.layout import layout_png
    snap = world_or_snapshot
    if hasattr(world_or_snapshot, "mm"):
        snap = snapshot_of(world_or_snapshot)
        if names is None:
            names = {v.id: v.anon_name for v in world_or_snapshot.vmas() if v.anon_name}
    png = layout_png(snap, names=names, title=title, figsize=figsize, rows=rows,
                     highlight=highlight)
    _display(Image(data=png, format="png"))


def show_before_after(trace, figsize=(9.6, 4.2)):
    """The address space before and after the recorded call, changed VMAs marked."""
    import io
    from IPython.display import Image
    from .render.layout import before_after_figure
    buf = io.BytesIO()
    before_after_figure(trace, figsize=figsize).savefig(buf, format="png", dpi=100)
    _display(Image(data=buf.getvalue(), format="png"))


def maps_excerpt(text: str, keep) -> str:
    """The lines of a maps text whose name column passes `keep(name)` (for a readable zoom)."""
    out = []
    for line in text.splitlines():
        parts = line.split(None, 5)
        name = parts[5].strip() if len(parts) > 5 else ""
        if keep(name):
            out.append(line)
    return "\n".join(out) + "\n"


def compact_maps(text: str, limit=None, name_width: int = 34) -> str:
    """Maps lines with single spaces and long paths shortened ('…/bin/python3.11'), so that
    they fit a slide; `limit` keeps only the first lines."""
    out = []
    for line in text.splitlines()[:limit]:
        parts = line.split(None, 5)
        if len(parts) < 5:
            continue
        name = parts[5].strip() if len(parts) > 5 else ""
        if len(name) > name_width and "/" in name:
            tail = name.rsplit("/", 2)
            name = "…/" + "/".join(tail[-2:]) if len("/".join(tail[-2:])) < name_width \
                else "…/" + tail[-1]
        out.append(" ".join(parts[:5] + ([name] if name else [])))
    return "\n".join(out)


def summarize_maps(text: str) -> str:
    """How many VMAs of each kind a maps text has (file-backed, anonymous, special)."""
    kinds = {"file-backed": 0, "anonymous": 0, "[heap]/[stack]": 0, "kernel-provided": 0}
    for line in text.splitlines():
        parts = line.split(None, 5)
        if len(parts) < 5:
            continue
        name = parts[5].strip() if len(parts) > 5 else ""
        if name in ("[heap]", "[stack]"):
            kinds["[heap]/[stack]"] += 1
        elif name in ("[vdso]", "[vvar]", "[vsyscall]", "[vvar_vclock]", "[uprobes]"):
            kinds["kernel-provided"] += 1
        elif parts[4] != "0":
            kinds["file-backed"] += 1
        else:
            kinds["anonymous"] += 1
    total = sum(kinds.values())
    return f"{total} VMAs: " + ", ".join(f"{n} {k}" for k, n in kinds.items())


def lock_timeline(trace, width: int = 64) -> str:
    """The locks held over a trace as text: one row per lock, one column per slice of events
    ('#' = held), the step labels (S0..S11) on top and '!' where the lock checker complained."""
    events = trace.events
    if not events:
        return "(no events)"
    n = len(events)
    col = [min(width - 1, i * width // n) for i in range(n)]
    names = []
    for e in events:
        for lock in e.locks_held:
            if lock not in names:
                names.append(lock)
    for v in trace.violations:
        if v.lock not in names:
            names.append(v.lock)
    label_w = max([len(x) for x in names] + [5]) + 1
    head = [" "] * width
    for i, e in enumerate(events):
        if e.step and e.step.startswith("S"):
            c = col[i]
            if all(ch == " " for ch in head[c:c + len(e.step) + 1]):
                head[c:c + len(e.step)] = list(e.step)
    rows = [" " * label_w + "".join(head).rstrip()]
    bad = {(v.lock, v.seq) for v in trace.violations}
    for name in names:
        cells = [" "] * width
        for i, e in enumerate(events):
            if name in e.locks_held:
                cells[col[i]] = "#"
        for lock, seq in bad:
            if lock == name and seq < n:
                cells[col[seq]] = "!"
        rows.append(name.ljust(label_w) + "".join(cells).rstrip())
    rows.append(" " * label_w + "event 0" + " " * max(0, width - 14 - len(str(n - 1)))
                + f"event {n - 1}")
    return "\n".join(rows)


class OutcomeMatrix:
    """What each scenario does on each kernel version: a table (HTML in a notebook)."""

    def __init__(self, rows):
        self.rows = rows            # [(scenario, [(kernel, text, bad), ...]), ...]

    def __repr__(self):
        kernels = [k for k, _, _ in self.rows[0][1]] if self.rows else []
        w = max([len(n) for n, _ in self.rows] + [8]) + 2
        lines = [" " * w + "".join(f"{k:20s}" for k in kernels)]
        for name, cells in self.rows:
            lines.append(f"{name:{w}s}" + "".join(f"{t:20s}" for _, t, _ in cells))
        return "\n".join(lines)

    def _repr_html_(self):
        kernels = [k for k, _, _ in self.rows[0][1]] if self.rows else []
        head = "".join(f"<th>{html.escape(k)}</th>" for k in kernels)
        body = ""
        for name, cells in self.rows:
            tds = "".join(
                f'<td style="{"background:#fde2e2;color:#8a0000;font-weight:bold" if bad else ""}">'
                f"{html.escape(t)}</td>" for _, t, bad in cells)
            body += f"<tr><td><code>{html.escape(name)}</code></td>{tds}</tr>"
        return (f'<table class="mmviz-matrix"><thead><tr><th>scenario</th>{head}</tr></thead>'
                f"<tbody>{body}</tbody></table>")


def outcome_matrix(names, kernels=("baseline", "v3", "v4")) -> OutcomeMatrix:
    """Record each scenario on each kernel: DEADLOCK, BUILD ERROR, -ERRNO or ok, with
    '+N VMA' when an error left VMAs behind and '!lock' when the lock checker complained;
    those cells are marked as bad."""
    from .scenarios import record
    rows = []
    for name in names:
        cells = []
        for k in kernels:
            t = record(name, kernel=k)
            r = t.result
            text = {"deadlock": "DEADLOCK", "build-error": "BUILD ERROR",
                    "unsupported": "n/a (lacks it)"}.get(
                r.outcome, f"-{r.errno}" if r.errno else "ok")
            left = bool(r.errno and t.final.vmas)
            lock = bool(t.violations and r.outcome != "deadlock")
            text += f" +{len(t.final.vmas)} VMA" if left else ""
            text += " !lock" if lock else ""
            cells.append((k, text, left or lock or r.outcome in ("deadlock", "build-error")))
        rows.append((name, cells))
    return OutcomeMatrix(rows)


# --- predicting and exercises ------------------------------------------------------------------

def show_predict(trace):
    """Predict what happens next: the Predict widget live; in the slides, its first question
    as text (the class answers aloud; the stepper on an earlier slide shows the answer)."""
    if static_mode():
        import random
        from .exercises import interesting_points, question_at
        points = interesting_points(trace)
        body = ""
        if points:
            q = question_at(trace, points[0], random.Random(0), standalone=True)
            body = _question_html("", q)
        _html(f"<h3>Predict: {html.escape(trace.title)}</h3>{body}"
              f'<p class="mmviz-static-note">In the notebook the <code>Predict</code> widget '
              f"stops at {len(points)} such points of the trace, asks, then shows what "
              "happened and why.</p>")
        return None
    from .widgets import Predict
    _display(Predict(trace))


def show_builder(**kw):
    """The Scenario Builder live; a pointer to it in the slides."""
    if static_mode():
        _html('<p class="mmviz-static-note">The Scenario Builder is interactive: open this '
              "lesson with <code>mmviz lab</code> (or on Binder) to compose your own "
              "scenario.</p>")
        return None
    from .widgets import ScenarioBuilder
    _display(ScenarioBuilder(**kw))


def _question_html(i, q, reveal=False) -> str:
    items = "".join(f"<li>{html.escape(str(c))}</li>" for c in q.choices)
    label = f"<b>Q{i}.</b> " if i != "" else ""
    body = (f'<div class="mmviz-question">{label}{html.escape(q.prompt)}'
            f'<ol style="list-style-type:upper-alpha">{items}</ol>')
    if reveal:
        body += (f"<p><i>Answer:</i> {html.escape(str(q.answer))}. "
                 f"{html.escape(q.explanation)}</p>")
    return body + "</div>"


def show_questions(questions):
    """Multiple-choice questions: radio buttons and a check button live; text in the slides."""
    questions = list(questions)
    if static_mode():
        _html("".join(_question_html(i, q) for i, q in enumerate(questions, 1)))
        return None
    import ipywidgets as W
    boxes = []
    for i, q in enumerate(questions, 1):
        choice = W.RadioButtons(options=[str(c) for c in q.choices], value=None,
                                layout=W.Layout(width="auto"))
        choice.add_class("mmviz-choice")
        check = W.Button(description="check", layout=W.Layout(width="90px"))
        check.add_class("mmviz-check")
        verdict = W.HTML("")
        verdict.add_class("mmviz-verdict")

        def on_check(_, q=q, choice=choice, verdict=verdict):
            if choice.value is None:
                verdict.value = "<i>pick an answer first</i>"
                return
            picked = q.choices[choice.index]
            if q.check(picked):
                verdict.value = ("<b style='color:#007a4d'>right.</b> "
                                 + html.escape(q.explanation))
            else:
                verdict.value = "<b style='color:#b34700'>not quite</b>: look again and retry."
        check.on_click(on_check)
        boxes.append(W.VBox([W.HTML(f"<b>Q{i}.</b> {html.escape(q.prompt)}"), choice,
                             W.HBox([check, verdict])],
                            layout=W.Layout(margin="0 0 10px 0")))
    box = W.VBox(boxes)
    box.add_class("mmviz-questions")
    _display(box)


def check_reference_answers(questions) -> str:
    """Assert that every question's reference answer is one of its choices, is accepted by
    its own check, and that no other choice is; return a one-line summary."""
    questions = list(questions)
    assert questions, "no questions were generated"
    for i, q in enumerate(questions, 1):
        assert q.prompt and q.explanation, f"Q{i} has no prompt or explanation"
        assert len(q.choices) >= 2, f"Q{i} has fewer than two choices"
        assert len(set(map(str, q.choices))) == len(q.choices), f"Q{i} repeats a choice"
        assert q.answer in q.choices, f"Q{i}: the answer {q.answer!r} is not a choice"
        assert q.check(q.answer), f"Q{i}: its own check rejects the reference answer"
        wrong = [c for c in q.choices if c != q.answer and q.check(c)]
        assert not wrong, f"Q{i}: the check also accepts {wrong!r}"
    return f"{len(questions)} questions: every reference answer is consistent"


def reveal_answers(questions):
    """Show the reference answers and explanations (for after you tried)."""
    _html("".join(_question_html(i, q, reveal=True) for i, q in enumerate(questions, 1)))


def live_compare(script, pages: int = 32, kernel: str = "v4"):
    """Run `script(system, base)` on a fresh model World and on the real kernel (Linux only);
    the returned mmviz.live.Comparison shows both maps views side by side."""
    from .model import World
    from .live import compare
    return compare(script, World(kernel), pages)
