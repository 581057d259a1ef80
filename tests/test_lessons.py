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


def _srcdoc(markup):
    return html.unescape(markup.split('srcdoc="', 1)[1].split('"></iframe>', 1)[0])


def test_static_stepper_is_a_lecture_room_iframe_with_its_key_frames(monkeypatch):
    from mmviz.trace.query import key_frames
    monkeypatch.setenv("MMVIZ_STATIC", "1")
    t = record("mapped-fail-hidden", kernel="v3")
    out = _displayed(lessons.show_stepper, t, view="timeline")
    assert len(out) == 1
    markup = out[0].data["text/html"]
    assert markup.startswith('<div class="mmviz-live"><iframe class="mmviz-stepper"')
    doc = _srcdoc(markup)
    assert 'class="mmviz-lecture"' in doc and 'data-view="timeline"' in doc
    assert 'id="mmviz-next-violation"' in doc and 'id="mmviz-prev-hook"' in doc
    assert "https://" not in doc.split("<body", 1)[0]        # nothing fetched by the head
    # the handout beside it: one block per key frame, the event labels of key_frames
    handout = markup.split('<div class="mmviz-handout"', 1)[1]
    frames = key_frames(t)
    assert handout.count('class="mmviz-key-frame"') == len(frames) >= 3
    for seq in frames:
        assert f'data-seq="{seq}"' in handout and f"event {seq} / {len(t) - 1}" in handout


def test_static_compare_is_one_page_with_one_aligned_timeline(monkeypatch):
    monkeypatch.setenv("MMVIZ_STATIC", "1")
    out = _displayed(lessons.show_compare, record("mapped-fail-hidden", kernel="v3"),
                     record("mapped-fail-hidden", kernel="v4"))
    markup = out[0].data["text/html"]
    assert markup.count("<iframe") == 1
    doc = _srcdoc(markup)
    assert doc.count('id="mmviz-timeline"') == 1 and doc.count('id="mmviz-cursor"') == 1
    assert "A = v3" in doc and "B = v4" in doc
    assert markup.count('class="mmviz-handout"') == 2         # both runs' key frames


def test_static_pictures_say_their_smallest_text(monkeypatch):
    import re
    from mmviz import World
    monkeypatch.setenv("MMVIZ_STATIC", "1")
    w = World()
    w.mmap(0x10000000, 8192, 3, 0x22 | 0x10)
    for fn, arg in ((lessons.show_layout, w), (lessons.show_before_after,
                                               record("fixed-replace"))):
        markup = _displayed(fn, arg)[0].data["text/html"]
        px = float(re.search(r'data-min-font-px="([\d.]+)"', markup).group(1))
        assert px >= 18.5, (fn.__name__, px)                    # drawn for a 1280 px slide
        assert 'alt="' in markup and "vma#" in markup


def test_static_rmap_walk_pictures_say_their_smallest_text_and_alternative(monkeypatch):
    import re
    from mmviz import World
    from mmviz.model.errors import InputError
    monkeypatch.setenv("MMVIZ_STATIC", "1")
    w = World()
    w.mmap(0x10000000, 4 * 4096, 3, 0x22 | 0x10)
    w.touch(0x10001000, 1)
    child = w.fork()
    child.touch(0x10001000, 2)
    walk = w.rmap_walk(0x10001000)
    for part in ("lanes", "tree", "both"):
        markup = _displayed(lessons.show_rmap_walk, walk, w, part)[0].data["text/html"]
        px = float(re.search(r'data-min-font-px="([\d.]+)"', markup).group(1))
        assert px >= 18.5, (part, px)
        assert "rmap_walk_anon visits" in html.unescape(markup)   # the walk in words
    with pytest.raises(InputError):
        lessons.show_rmap_walk(walk, w, "all")


def test_static_exercises_show_text_not_widgets(monkeypatch):
    monkeypatch.setenv("MMVIZ_STATIC", "1")
    qs = lessons.lesson_questions("05")[:2]
    out = _displayed(lessons.show_questions, qs)
    assert "Q1." in out[0].data["text/html"] and "Q2." in out[0].data["text/html"]
    assert "Answer:" not in out[0].data["text/html"]          # no answer in the slides
    out = _displayed(lessons.show_predict, record("anon-merge-both"))
    assert "Predict:" in out[0].data["text/html"]


def test_quiz_limits_tries_gives_a_hint_then_the_why_and_keeps_a_score(monkeypatch):
    pytest.importorskip("ipywidgets")
    monkeypatch.delenv("MMVIZ_STATIC", raising=False)
    qs = lessons.lesson_questions("02")[:3]
    quiz = _displayed(lessons.show_questions, qs)[0].data["widget"]
    assert quiz.score == (0, 0, 0, 3)
    choice, check, verdict = quiz.rows[0]
    check.click()
    assert "pick an answer" in verdict.value and quiz.predictions == []
    wrong = [c for c in qs[0].choices if c != qs[0].answer]
    assert quiz.answer(0, wrong[0]) is False
    assert quiz.predictions[-1]["choice"] == wrong[0] and quiz.predictions[-1]["try"] == 1
    assert "Hint:" in verdict.value and qs[0].hint in html.unescape(verdict.value)
    assert qs[0].answer not in html.unescape(verdict.value)     # a hint, not the answer
    assert wrong[0] not in choice.options                       # struck out
    assert quiz.answer(0, wrong[1]) is False                    # the last try: the answer
    assert "The answer is" in verdict.value and "Why:" in verdict.value
    assert check.disabled and quiz.score == (0, 0, 1, 3)
    assert quiz.answer(1, qs[1].answer) is True
    assert "at the first try" in quiz.rows[1][2].value
    assert quiz.score == (1, 1, 2, 3) and "Score: 1 of 3" in quiz.score_label.value
    assert len(quiz.predictions) == 3
    # the check button keeps its width beside (now under) a long verdict
    assert check.layout.flex == "0 0 auto" and check.layout.min_width == "90px"
    quiz.close()


def test_capstone_reference_answers_agree_with_the_model_and_wait_for_a_prediction():
    from mmviz.lessons import capstone
    cap = capstone.Capstone(attempts=2)
    for part, answers in capstone.REFERENCE.items():
        assert "predict first" in cap.reveal(part)              # never before a prediction
        assert "predict first" in cap.check(part)
        for kernel, (want, why) in answers.items():
            assert capstone.observed(cap.run(part, kernel)) == want, (part, kernel)
            assert why
        right = {k: v[0] for k, v in answers.items()}
        wrong = {k: ("ok", 9, False) for k in answers}
        cap.predict(part, wrong)
        assert "look again" in cap.check(part) and "right" not in cap.check(part).split("\n")[0]
        cap.predict(part, right)
        assert all(line.endswith("right") for line in cap.check(part).splitlines()[:3])
        assert str(right["v4"]) in cap.reveal(part)
    with pytest.raises(Exception):
        cap.predict("capdev", {"v4": ("ok", 1, False)})           # every version is given


def test_the_capstone_answers_are_not_in_the_notebook():
    from pathlib import Path
    from mmviz.lessons.capstone import REFERENCE
    nb = (Path(__file__).resolve().parents[1] / "notebooks" / "09-build-your-own.ipynb").read_text()
    for part in REFERENCE.values():
        for want, why in part.values():
            assert why[:40] not in nb and str(want) not in nb


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
