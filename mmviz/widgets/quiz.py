"""Quiz: multiple-choice questions answered with limited attempts, a hint, then the worked why.

    from mmviz.exercises import generate
    from mmviz.widgets import Quiz
    quiz = Quiz(generate(105, n=5), attempts=2)
    quiz.answer(0, "-ENOMEM")   # as a reader would: choose, then check
    quiz.score                  # (right, first_try, answered, total)
    quiz.predictions                    # every prediction, recorded before anything is revealed

Each check is written to `predictions` first (the prediction, the try number, right or not); only
then does the question say anything: right → the why; wrong with tries left → a hint (never
the answer) and the choice is struck out; wrong on the last try → the answer and the why.
The score line counts what was right and what was right at the first try.
"""

from __future__ import annotations

import html
import time

import ipywidgets as W

from ._ui import ErrorPane, WeakCall, button, check_attempts, close_tree


class Quiz(W.VBox):
    """Questions with `attempts` tries each. `predictions`, `score`, `answer(i, choice)`."""

    def __init__(self, questions, attempts: int = 2, title: str = ""):
        self.attempts = check_attempts(attempts)
        self.questions = list(questions)
        self.predictions: list = []
        self.state = [{"tries": 0, "right": None, "struck": []} for _ in self.questions]
        self.errors = ErrorPane()
        self.rows = []
        boxes = []
        for i, q in enumerate(self.questions):
            choice = W.RadioButtons(options=[str(c) for c in q.choices], value=None,
                                    layout=W.Layout(width="auto"))
            choice.add_class("mmviz-choice")
            check = button("check", "mmviz-check", "check your prediction", width="90px")
            check.layout.flex = "0 0 auto"           # never squeezed by a long verdict
            check.layout.min_width = "90px"
            check.on_click(self.errors.guard(WeakCall(self, "check", i)))
            verdict = W.HTML("", layout=W.Layout(width="100%"))
            verdict.add_class("mmviz-verdict")
            self.rows.append((choice, check, verdict))
            box = W.VBox([W.HTML(f"<b>Q{i + 1}.</b> {html.escape(q.prompt)}"), choice, check,
                          verdict], layout=W.Layout(margin="0 0 12px 0"))
            box.add_class("mmviz-question-box")
            boxes.append(box)
        self.score_label = W.HTML("")
        self.score_label.add_class("mmviz-score")
        head = W.HTML(f"<div style='font-size:13px;color:#333'>{html.escape(title)} "
                      f"{attempts} tr{'ies' if attempts != 1 else 'y'} per question: after a "
                      "wrong one you get a hint, after the last the answer and why. Your "
                      "predictions are kept in <code>quiz.predictions</code>.</div>")
        super().__init__(children=[head, *boxes, self.score_label, self.errors.widget])
        self.add_class("mmviz-questions")
        self._score()

    # --- answering -----------------------------------------------------------------------------
    def answer(self, i: int, choice) -> bool | None:
        """Choose (text or index) for question i and check it, as a reader would."""
        q = self.questions[i]
        if isinstance(choice, int) and not isinstance(choice, bool):
            choice = q.choices[choice]
        self.rows[i][0].value = str(choice)
        return self.check(i)

    def check(self, i: int) -> bool | None:
        q, st = self.questions[i], self.state[i]
        choice, check, verdict = self.rows[i]
        if st["right"] is not None:
            return st["right"]
        if choice.value is None:
            verdict.value = "<i>pick an answer first</i>"
            return None
        picked = choice.value
        st["tries"] += 1
        ok = q.check(picked)
        # The prediction is recorded before anything is revealed.
        self.predictions.append({"question": i, "prompt": q.prompt, "try": st["tries"],
                         "choice": picked, "right": ok, "time": time.time()})
        if ok:
            st["right"] = True
            verdict.value = (f"<div style='margin-top:3px'><b style='color:#007a4d'>✔ Right"
                             f"{' at the first try' if st['tries'] == 1 else ''}.</b> "
                             f"<span style='color:#333'>Why: {html.escape(q.explanation)}</span>"
                             "</div>")
            self._close(i)
        elif st["tries"] < self.attempts:
            st["struck"].append(picked)
            left = self.attempts - st["tries"]
            verdict.value = (f"<div style='margin-top:3px'><b style='color:#b34700'>✘ Not "
                             f"{html.escape(picked)}.</b> <b>Hint:</b> "
                             f"{html.escape(q.hint or 'look at the trace again.')} "
                             f"<span style='color:#555'>({left} tr{'ies' if left != 1 else 'y'} "
                             "left)</span></div>")
            choice.options = [o for o in choice.options if o != picked]
            choice.value = None
        else:
            st["right"] = False
            verdict.value = (f"<div style='margin-top:3px'><b style='color:#b34700'>✘ Not "
                             f"{html.escape(picked)}.</b> The answer is "
                             f"<b>{html.escape(str(q.answer))}</b>. <span style='color:#333'>"
                             f"Why: {html.escape(q.explanation)}</span></div>")
            self._close(i)
        self._score()
        return ok

    def _close(self, i):
        choice, check, _ = self.rows[i]
        check.disabled = True
        choice.disabled = True

    # --- the score -----------------------------------------------------------------------------
    @property
    def score(self) -> tuple:
        """(right, right at the first try, answered, total)."""
        done = [s for s in self.state if s["right"] is not None]
        right = [s for s in done if s["right"]]
        first = [s for s in right if s["tries"] == 1]
        return len(right), len(first), len(done), len(self.questions)

    def _score(self):
        right, first, done, total = self.score
        self.score_label.value = (f"<div style='font-size:14px;border-top:1px solid #ccc;"
                                  f"padding-top:4px'><b>Score: {right} of {total}</b> right "
                                  f"({first} at the first try); {done} of {total} answered."
                                  "</div>")

    def close(self):
        close_tree(self, super().close)
