"""The lessons: committed clean, generated from their sources, and every one runs headless.

Each notebook is executed top to bottom by nbclient in a fresh kernel of this interpreter
(the `python3` kernel name resolves to sys.executable), with the widgets live, exactly as a
learner would run it; its exercise block ends with a cell that asserts the reference answers
are consistent, so a passing run means the exercises check out too.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NB_DIR = ROOT / "notebooks"
LESSONS = [
    "00-welcome-and-tour", "01-address-spaces-and-vmas", "02-merging-and-splitting",
    "03-from-mmap-to-mmap-prepare", "04-stepping-mmap-region", "05-actions-and-hooks",
    "06-the-rmap-lock-and-hiding", "07-anatomy-of-a-fix", "08-compat-path-and-nommu",
    "09-build-your-own", "10-two-tasks", "11-the-rest-of-the-address-space",
]
SLIDE_TYPES = {"slide", "subslide", "fragment", "-", "skip", "notes"}


def _load(name):
    nb = json.loads((NB_DIR / f"{name}.ipynb").read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if isinstance(cell["source"], list):
            cell["source"] = "".join(cell["source"])
    return nb


def test_the_numbered_lessons_are_all_there():
    found = sorted(p.stem for p in NB_DIR.glob("[0-9][0-9]-*.ipynb"))
    assert found == LESSONS


def test_notebooks_match_their_generator():
    proc = subprocess.run([sys.executable, str(ROOT / "tools" / "make_notebooks.py"), "--check"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("name", LESSONS)
def test_committed_without_outputs(name):
    nb = _load(name)
    assert "widgets" not in nb["metadata"], "saved widget state in the committed notebook"
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [], f"cell {i} has outputs"
            assert cell["execution_count"] is None, f"cell {i} has an execution count"
        assert "attachments" not in cell or not cell["attachments"]


@pytest.mark.parametrize("name", LESSONS)
def test_every_cell_is_placed_in_the_deck(name):
    nb = _load(name)
    types = [c["metadata"].get("slideshow", {}).get("slide_type") for c in nb["cells"]]
    assert all(t in SLIDE_TYPES for t in types), types
    first_visible = next(t for t in types if t not in ("skip", "notes"))
    assert first_visible == "slide"
    assert nb["cells"][0]["source"].startswith(f"# {name[:2]} ")   # the deck's title slide
    assert types.count("slide") + types.count("subslide") >= 8, "a 15-30 minute lesson"
    assert "notes" in types, "the deck has speaker notes"


@pytest.mark.parametrize("name", LESSONS)
def test_each_lesson_ends_with_its_exercises(name):
    sources = [c["source"] for c in _load(name)["cells"]]
    tail = "\n".join(sources[-6:])
    assert "## Exercises" in tail
    assert "show_predict(" in tail
    assert (f'lesson_questions("{name[:2]}")' in tail              # the lesson's own pool
            or f"race_questions(1{name[:2]}" in tail)              # lesson 10: the races
    assert "check_reference_answers(questions)" in tail


@pytest.mark.parametrize("name", LESSONS)
def test_speaker_notes_are_notes_only_and_marked(name):
    nb = _load(name)
    notes = [c for c in nb["cells"] if c["metadata"].get("slideshow", {}).get("slide_type")
             == "notes"]
    assert notes
    for c in notes:
        assert c["metadata"].get("jupyter", {}).get("source_hidden") is True   # collapsed
        assert "speaker-notes" in c["metadata"].get("tags", [])
        assert c["source"].startswith("<small>▸ <b>Speaker notes</b>")        # and marked


def _predict_trace(source):
    """The trace a lesson's Predict cell steps through (read from its source)."""
    import re
    from mmviz.scenarios import record
    m = re.search(r'show_predict\(record\("([\w-]+)"(?:, kernel="(\w+)")?\)\)', source)
    if m:
        return record(m.group(1), kernel=m.group(2) or "v4")
    m = re.search(r'show_predict\(cap\.run\("(\w+)", "(\w+)"\)\)', source)
    from mmviz.lessons.capstone import Capstone
    return Capstone().run(m.group(1), m.group(2))


def test_no_question_prompt_repeats_across_lessons():
    import random
    from mmviz.exercises import interesting_points, question_at
    from mmviz.lessons import lesson_questions
    seen = {}
    for name in LESSONS:
        src = "\n".join(c["source"] for c in _load(name)["cells"])
        prompts = [q.prompt for q in lesson_questions(name[:2])]
        t = _predict_trace(src)
        prompts += [question_at(t, p, random.Random(0), standalone=True).prompt
                    for p in interesting_points(t)]
        assert len(prompts) >= 6, name
        for p in prompts:
            assert p not in seen, f"{name} repeats {seen.get(p)}: {p}"
            seen[p] = name


def test_the_leak_check_catches_an_answer_printed_before_its_question():
    from leak_check import leaks
    from mmviz.exercises import generate
    q = next(q for q in generate(3, 20, kinds=["returns", "vma-count"],
                                 pairs=[("success-hook-fail", "v4")]) if q.kind == "returns")
    def nb(text, src='t = record("success-hook-fail")\nprint(outcome(t))'):
        return {"metadata": {}, "cells": [
            {"cell_type": "code", "source": src,
             "outputs": [{"output_type": "stream", "name": "stdout", "text": text}]},
            {"cell_type": "code", "source": "questions", "outputs": []}]}
    assert leaks(nb("success-hook-fail on v4: returns -EINVAL; 0 lock violations\n"), [q], 1)
    assert leaks(nb("v3: returns -EINVAL\n"), [q], 1)          # the scenario is in the source
    assert not leaks(nb("returns -EINVAL\n", src="print(x)"), [q], 1)   # another scenario
    assert not leaks(nb("success-hook-fail: returns -ENOMEM\n"), [q], 1)
    assert not leaks(nb("success-hook-fail on v4: returns -EINVAL\n"), [q], 0)  # asked first


@pytest.mark.parametrize("name", LESSONS)
def test_notebook_runs_headless(name):
    import nbformat
    from nbclient import NotebookClient
    nb = nbformat.read(NB_DIR / f"{name}.ipynb", as_version=4)
    NotebookClient(nb, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(NB_DIR)}}).execute()
    texts, errors = [], []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.output_type == "error":
                errors.append(out.ename)
            if out.output_type == "stream":
                texts.append(out.text)
                if out.name == "stderr":
                    errors.append(out.text[:200])
    assert not errors, errors
    joined = "".join(texts)
    assert "every reference answer is consistent" in joined
    if name == "09-build-your-own":
        assert "prediction 1 for capdev recorded" in joined
        assert "prediction 1 for late recorded" in joined
    if name == "11-the-rest-of-the-address-space":
        assert "parent reads 1 - child reads 2" in joined
        assert "rmap_walk_anon visits" in joined and "page 4: parent 9 child 0" in joined
    # no question's answer (its return value, outcome or VMA count) was printed before it
    from leak_check import leaks
    from mmviz.lessons import lesson_questions
    asked = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code" and
                 ("lesson_questions(" in c.source or "race_questions(" in c.source))
    found = leaks(nb, lesson_questions(name[:2]), asked)
    assert not found, found
    if name == "02-merging-and-splitting" and sys.platform == "linux":
        live = [o for c in nb.cells for o in c.get("outputs", [])
                if "text/plain" in o.get("data", {}) and "real kernel" in o.data["text/plain"]]
        assert len(live) == 4 and all(o.data["text/plain"].rstrip().endswith("agree")
                                      for o in live), "the model and the kernel disagree"
