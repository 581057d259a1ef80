"""Predict: step through a trace, but at chosen events stop, ask what happens next, then show it.

    from mmviz.scenarios import record
    from mmviz.widgets import Predict
    Predict(record("mapped-fail-hidden", kernel="v4"))            # questions picked for you
    Predict(record("mapped-fail-hidden", kernel="v4"), at=[31, 46])  # ... or at these events

Before each question point the reader can step freely through what is already revealed
(the layout), never past it: the slider's maximum is the event before the question. While a
question is open nothing on screen gives the answer away: the narration, the call stack and
the function name are hidden (the last event's sentence often names what comes next), and
so is the result in the header. Check records the prediction (`predictions`) before it says
anything; a wrong try with tries left gets a hint, the last one the answer; then the worked
*why* and the event itself. There is no lock timeline here, because it would show the future.
"""

from __future__ import annotations

import html

import ipywidgets as W

from .. import exercises
from ..render.frame import FrameBuilder
from ..render.narration_html import header_html
from ._ui import ErrorPane, WeakCall, button, check_attempts, close_tree, scope_class
from .frames import FrameStore
from .panes import LayoutPane


class Predict(W.VBox):
    """Predict-then-reveal over one trace. `questions`, `current`, `answer()`, `score`."""

    def __init__(self, trace, at=None, *, prerender: bool = True, attempts: int = 2):
        points = _points(trace, at)
        self.trace = trace
        self.attempts = check_attempts(attempts)
        self.questions = [exercises.question_at(trace, p, standalone=True) for p in points]
        self.results: list = [None] * len(self.questions)     # True / False once checked
        self.tries: list = [0] * len(self.questions)
        self.predictions: list = []                                    # every prediction, in order
        self.errors = ErrorPane()
        self._q = 0
        self.builder = FrameBuilder(trace, width=6.7, timeline=False, scope="." + scope_class())
        self._store = FrameStore(self.builder, maxsize=256, prerender=prerender)
        self.slider = W.IntSlider(min=0, max=0, value=0, readout=False, continuous_update=True,
                                  layout=W.Layout(width="320px"))
        self.slider.add_class("mmviz-step-slider")
        label = W.HTML("")
        label.add_class("mmviz-step-label")
        self._nav = (button("◀ prev", "mmviz-prev"), button("next ▶", "mmviz-next"))
        self._nav[0].on_click(self.errors.guard(WeakCall(self, "_step", -1)))
        self._nav[1].on_click(self.errors.guard(WeakCall(self, "_step", +1)))
        quiz = self._quiz()
        view = self._view(label)
        super().__init__(children=[
            W.HTML(header_html(trace, outcome=False)),   # the result is a question too
            quiz, W.HBox([self.slider, label, *self._nav],
                         layout=W.Layout(align_items="center", flex_flow="row wrap")),
            view, self.errors.widget])
        self.add_class("mmviz-predict")
        self.slider.observe(self.errors.guard(WeakCall(self, "_on_index", pass_args=True)),
                            names="value")
        self._show_question()

    def _quiz(self):
        self.prompt = W.HTML("")
        self.prompt.add_class("mmviz-question")
        self.choices = W.RadioButtons(options=[], value=None,
                                      layout=W.Layout(width="auto", margin="2px 0 2px 8px"))
        self.choices.add_class("mmviz-choices")
        self.check_button = button("Check", "mmviz-check", "grade your answer", style="primary")
        self.continue_button = button("Continue ▶", "mmviz-continue",
                                      "show what happened and go on")
        self.check_button.on_click(self.errors.guard(WeakCall(self, "check")))
        self.continue_button.on_click(self.errors.guard(WeakCall(self, "next_question")))
        self.feedback = W.HTML("")
        self.feedback.add_class("mmviz-feedback")
        self.score_label = W.HTML("")
        self.score_label.add_class("mmviz-score")
        quiz = W.VBox([self.score_label, self.prompt, self.choices,
                       W.HBox([self.check_button, self.continue_button]), self.feedback],
                      layout=W.Layout(border="2px solid #0072B2", padding="6px 10px",
                                      margin="6px 0"))
        quiz.add_class("mmviz-quiz")
        return quiz

    def _view(self, label):
        narration = W.HTML("", layout=W.Layout(min_height="80px"))
        narration.add_class("mmviz-narration")
        self._layout = LayoutPane()
        callstack = W.HTML("", layout=W.Layout(max_height="300px", overflow="auto",
                                                border="1px solid #e3e3e3"))
        callstack.add_class("mmviz-callstack")
        self.panes = {"label": label, "narration": narration, "layout": self._layout.widget,
                      "callstack": callstack, "question": self.prompt,
                      "feedback": self.feedback, "score": self.score_label,
                      "error": self.errors.widget}
        return W.HBox([W.VBox([self._layout.box],
                              layout=W.Layout(width="672px", max_width="100%")),
                       W.VBox([narration,
                               W.HTML("<b style='font-size:12px;color:#444'>call stack</b>"),
                               callstack], layout=W.Layout(
                           flex="1 1 320px", min_width="300px", margin="0 0 0 12px"))],
                      layout=W.Layout(flex_flow="row wrap", align_items="flex-start"))

    # --- the question flow ----------------------------------------------------------------------
    @property
    def current(self):
        return self.questions[self._q] if self._q < len(self.questions) else None

    @property
    def score(self) -> tuple:
        """(right, answered, total)."""
        done = [r for r in self.results if r is not None]
        return sum(done), len(done), len(self.questions)

    def _limit(self) -> int:
        """The last event the reader may see now."""
        q = self.current
        if q is None:
            return len(self.trace.events) - 1
        revealed = self.results[self._q] is not None and self._revealed
        return q.seq if revealed else max(q.seq - 1, 0)

    def _show_question(self):
        q = self.current
        self._revealed = False
        if q is not None:
            self.tries[self._q] = 0
        right, answered, total = self.score
        if q is None:
            self.prompt.value = (f"<div style='font-size:14px'><b>All done: {right} of {total} "
                                 "right.</b> The whole trace is open: step through it "
                                 "freely.</div>")
            self.choices.options = []
            self.choices.layout.display = "none"
            self.check_button.disabled = True
            self.continue_button.disabled = True
            self.score_label.value = ""
        else:
            before = (f"<div style='color:#555;font-size:12px'>You are at event {max(q.seq - 1, 0)}"
                      + (" (the call has not started)" if q.seq == 0 else "") + ". The next "
                      "event is hidden.</div>")
            self.prompt.value = (f"{before}<div style='font-size:14px;margin-top:3px'><b>"
                                 f"{html.escape(q.prompt)}</b></div>")
            self.choices.layout.display = None
            self.choices.options = list(q.choices)
            self.choices.value = None
            self.check_button.disabled = False
            self.continue_button.disabled = True
            self.score_label.value = (f"<span style='color:#0072B2;font-size:12px'>question "
                                      f"{self._q + 1} of {total} · {right} right so far</span>")
        self.feedback.value = ""
        self._set_limit(self._limit(), move=True)

    def _set_limit(self, limit, move=False):
        self.slider.max = max(limit, 0)
        if move and self.slider.value != limit:
            self.slider.value = limit
        else:
            self._apply(self._store.get(self.slider.value))

    def answer(self, choice) -> bool:
        """Choose (text or index) and check, as a reader would with the radio buttons."""
        q = self.current
        if q is None:
            raise ValueError("there is no open question")
        if isinstance(choice, int) and not isinstance(choice, bool):
            choice = q.choices[choice]
        self.choices.value = choice
        return self.check()

    def check(self):
        q = self.current
        if q is None:
            return None
        if self.choices.value is None:
            self.feedback.value = "<span style='color:#8a6d00'>Pick an answer first.</span>"
            return None
        picked = self.choices.value
        ok = q.check(picked)
        self.tries[self._q] += 1
        # The prediction is recorded before anything is revealed.
        self.predictions.append({"question": self._q, "seq": q.seq, "prompt": q.prompt,
                         "try": self.tries[self._q], "choice": picked, "right": ok})
        if not ok and self.tries[self._q] < self.attempts:
            left = self.attempts - self.tries[self._q]
            self.feedback.value = (f"<div style='font-size:13px;margin-top:4px'><b style='color:"
                                   f"#d1242f'>✘ Not {html.escape(str(picked))}.</b> <b>Hint:"
                                   f"</b> {html.escape(q.hint or 'look again.')} ({left} "
                                   f"tr{'ies' if left != 1 else 'y'} left)</div>")
            self.choices.options = [c for c in self.choices.options if c != picked]
            self.choices.value = None
            return ok
        self.results[self._q] = ok
        verdict = ("<b style='color:#1a7f37'>✔ Right.</b>" if ok else
                   f"<b style='color:#d1242f'>✘ Not quite.</b> The answer is "
                   f"<b>{html.escape(q.answer)}</b>.")
        self.feedback.value = (f"<div style='font-size:13px;line-height:1.45;margin-top:4px'>"
                               f"{verdict}<br><span style='color:#333'>Why: "
                               f"{html.escape(q.explanation)}</span></div>")
        self.check_button.disabled = True
        self.continue_button.disabled = False
        self._revealed = True
        self._set_limit(self._limit(), move=True)      # show the event that was hidden
        return ok

    def next_question(self):
        if self.current is None:
            return
        if self.results[self._q] is None:
            self.results[self._q] = False              # skipped counts as not right
        self._q += 1
        self._show_question()

    # --- stepping inside what is revealed ---------------------------------------------------------
    @property
    def index(self) -> int:
        return self.slider.value

    @index.setter
    def index(self, i):
        self.slider.value = min(max(int(i), 0), self.slider.max)

    def _step(self, d):
        self.index = self.index + d

    def _on_index(self, change):
        self._apply(self._store.get(change["new"]))

    @property
    def is_open(self) -> bool:
        """A question is waiting for its answer (what would give it away is hidden)."""
        return self.current is not None and not self._revealed

    def _apply(self, f):
        p = self.panes
        self._layout.show(f)
        if self.is_open:
            p["label"].value = f"<span style='font-size:13px'>event <b>{f.index}</b></span>"
            p["narration"].value = ("<div style='color:#555;font-size:13px'><i>The narration, "
                                    "the call stack and the current function are hidden while "
                                    "you predict: the last sentence often names what comes "
                                    "next. Step back through the pictures if you like.</i>"
                                    "</div>")
            p["callstack"].value = ""
        else:
            p["label"].value = f.label_html
            p["narration"].value = f.narration_html
            p["callstack"].value = f.callstack
        self._nav[0].disabled = f.index <= 0
        self._nav[1].disabled = f.index >= self.slider.max

    def close(self):
        """Close every child widget, stop the background thread, drop the cached pictures."""
        store = getattr(self, "_store", None)
        if store is not None:
            store.close()
        builder = getattr(self, "builder", None)
        if builder is not None:
            builder.close()
        close_tree(self, super().close)


def _points(trace, at) -> list:
    """The question points: `at` checked (event numbers), or the trace's interesting ones."""
    from ..model.errors import InputError
    n = len(trace.events)
    if n == 0:
        raise InputError("this trace has no events to predict")
    points = sorted(set(at)) if at is not None else exercises.interesting_points(trace)
    for p in points:
        if isinstance(p, bool) or not isinstance(p, int) or not 0 <= p < n:
            raise InputError(f"question points must be event numbers 0..{n - 1} (got {p!r})")
    return points

