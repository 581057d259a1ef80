"""mmviz.lessons: the notebook helpers, live (widgets) and static (for the offline slides)."""

from __future__ import annotations

import html
from dataclasses import dataclass

import pytest

from mmviz import lessons
from mmviz.scenarios import record

pytest.importorskip("IPython")


class _Shown:
    def __init__(self, obj, raw):
        self.obj = obj
        self.data = obj if raw else {"widget": obj}


def _displayed(fn, *args, **kw):
    """What fn passed to IPython's display(), in order (raw bundles and widgets)."""
    import IPython.display
    shown = []
    real = IPython.display.display
    IPython.display.display = lambda obj, raw=False, **_: shown.append(_Shown(obj, raw))
    try:
        fn(*args, **kw)
    finally:
        IPython.display.display = real
    return shown


def test_static_mode_follows_the_environment(monkeypatch):
    monkeypatch.delenv("MMVIZ_STATIC", raising=False)
    assert not lessons.static_mode()
    monkeypatch.setenv("MMVIZ_STATIC", "1")
    assert lessons.static_mode()
    monkeypatch.setenv("MMVIZ_STATIC", "0")
    assert not lessons.static_mode()


def test_static_stepper_is_a_self_contained_iframe(monkeypatch):
    monkeypatch.setenv("MMVIZ_STATIC", "1")
    out = _displayed(lessons.show_stepper, record("anon-new"))
    assert len(out) == 1
    markup = out[0].data["text/html"]
    assert markup.startswith('<iframe class="mmviz-stepper"') and 'srcdoc="' in markup
    doc = html.unescape(markup.split('srcdoc="', 1)[1].rsplit('"></iframe>', 1)[0])
    assert 'id="mmviz-next"' in doc and "zoom:0.64" in doc
    assert "https://" not in doc.split("<body", 1)[0]        # nothing fetched by the head


def test_static_compare_puts_two_steppers_side_by_side(monkeypatch):
    monkeypatch.setenv("MMVIZ_STATIC", "1")
    out = _displayed(lessons.show_compare, record("mapped-fail-hidden", kernel="v3"),
                     record("mapped-fail-hidden", kernel="v4"))
    markup = out[0].data["text/html"]
    assert markup.count("<iframe") == 2 and "v3: returns -ENOMEM" in markup


def test_static_exercises_show_text_not_widgets(monkeypatch):
    from mmviz.exercises import generate
    monkeypatch.setenv("MMVIZ_STATIC", "1")
    qs = generate(5, n=2)
    out = _displayed(lessons.show_questions, qs)
    assert "Q1." in out[0].data["text/html"] and "Q2." in out[0].data["text/html"]
    out = _displayed(lessons.show_predict, record("anon-merge-both"))
    assert "Predict:" in out[0].data["text/html"]


def test_live_questions_check_the_chosen_answer(monkeypatch):
    pytest.importorskip("ipywidgets")
    from mmviz.exercises import generate
    monkeypatch.delenv("MMVIZ_STATIC", raising=False)
    q = generate(11, n=1)[0]
    out = _displayed(lessons.show_questions, [q])
    box = out[0].data["widget"]
    _, choice, row = box.children[0].children
    check, verdict = row.children
    check.click()
    assert "pick an answer" in verdict.value
    wrong = next(i for i, c in enumerate(q.choices) if c != q.answer)
    choice.index = wrong
    check.click()
    assert "not quite" in verdict.value
    choice.index = list(q.choices).index(q.answer)
    check.click()
    assert "right" in verdict.value


@dataclass
class _Q:
    prompt: str
    choices: tuple
    answer: str
    explanation: str = "because"

    def check(self, c):
        return c in ("a", "b")          # accepts two choices: inconsistent on purpose


def test_reference_answer_check_catches_a_bad_question():
    with pytest.raises(AssertionError, match="also accepts"):
        lessons.check_reference_answers([_Q("?", ("a", "b"), "a")])
    with pytest.raises(AssertionError, match="not a choice"):
        lessons.check_reference_answers([_Q("?", ("x", "y"), "a")])
    with pytest.raises(AssertionError):
        lessons.check_reference_answers([])


def test_lock_timeline_marks_the_double_unlock():
    text = lessons.lock_timeline(record("mapped-fail-hidden", kernel="v3"))
    row = next(line for line in text.splitlines() if line.startswith("i_mmap_rwsem"))
    assert "!" in row and "#" in row
    assert "S10" in text.splitlines()[0]


def test_outcome_matrix_marks_what_went_wrong():
    m = lessons.outcome_matrix(["action-fail-hidden", "success-hook-fail"])
    cells = dict(m.rows)
    assert cells["action-fail-hidden"][0] == ("baseline", "DEADLOCK", True)
    assert cells["action-fail-hidden"][2] == ("v4", "-ENOMEM", False)
    assert cells["success-hook-fail"][1] == ("v3", "-EINVAL +1 VMA", True)
    assert "<table" in m._repr_html_() and "DEADLOCK" in repr(m)


def test_maps_helpers():
    text = ("55d0c3a00000-55d0c3a01000 r--p 00000000 fe:00 131090" + " " * 22
            + "/root/.pyenv/versions/3.11.7/bin/python3.11\n"
            "55d0c4c5f000-55d0c4d60000 rw-p 00000000 00:00 0" + " " * 26 + "[heap]\n"
            "7f3a1c000000-7f3a1c021000 rw-p 00000000 00:00 0 \n")
    compact = lessons.compact_maps(text)
    assert compact.splitlines()[0].endswith(" …/bin/python3.11")
    assert compact.splitlines()[1].endswith("0 [heap]")
    assert lessons.summarize_maps(text).startswith("3 VMAs: 1 file-backed, 1 anonymous, 1 ")
    assert lessons.maps_excerpt(text, lambda n: n == "[heap]").count("\n") == 1
