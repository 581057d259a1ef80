"""Predicting and answering: the Predict widget, multiple-choice questions, and the check
that every question's reference answer is consistent."""

from __future__ import annotations

import html

from .display import _display, _html, static_mode


def show_predict(trace):
    """Predict what happens next: the Predict widget live; in the slides, its first question
    as text (the class answers aloud; the stepper on an earlier slide shows the answer)."""
    if static_mode():
        import random
        from ..exercises import interesting_points, question_at
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
    from ..widgets import Predict
    _display(Predict(trace))


def _question_html(i, q, reveal=False) -> str:
    items = "".join(f"<li>{html.escape(str(c))}</li>" for c in q.choices)
    label = f"<b>Q{i}.</b> " if i != "" else ""
    body = (f'<div class="mmviz-question">{label}{html.escape(q.prompt)}'
            f'<ol style="list-style-type:upper-alpha">{items}</ol>')
    if reveal:
        body += (f"<p><i>Answer:</i> {html.escape(str(q.answer))}. "
                 f"{html.escape(q.explanation)}</p>")
    return body + "</div>"


def show_questions(questions, attempts: int = 2):
    """Multiple-choice questions: the Quiz widget live (limited tries, a hint, the worked
    why, a score; every prediction recorded before the reveal); text in the slides."""
    questions = list(questions)
    if static_mode():
        _html("".join(_question_html(i, q) for i, q in enumerate(questions, 1)))
        return None
    from ..widgets import Quiz
    quiz = Quiz(questions, attempts=attempts)
    _display(quiz)
    return quiz


def show_program(text=None, maps=None, kernel="v4"):
    """Your own program: the ProgramRunner live (type calls, step through them, check them
    against this machine's kernel); a pointer to it in the slides."""
    if static_mode():
        _html('<p class="mmviz-static-note">Your own program: in the notebook a text box takes '
              "<code>mmap</code> / <code>munmap</code> / <code>mprotect</code> / "
              "<code>touch</code> calls, steps through them and checks them against the "
              "running kernel.</p>")
        return None
    from ..widgets import ProgramRunner
    kw = {} if text is None else {"text": text}
    runner = ProgramRunner(maps=maps, kernel=kernel, **kw)
    _display(runner)
    return runner


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
