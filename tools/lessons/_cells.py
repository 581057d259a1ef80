"""A tiny vocabulary for writing a lesson as Python: each helper returns one cell.

The slide type of every cell is stated (nbconvert/RISE `metadata.slideshow.slide_type`):
  slide     a new horizontal slide
  subslide  a new vertical slide under the current one
  fragment  appears on the current slide on the next key press
  -         continues the current slide
  skip      in the notebook only (set-up and answer-check cells)
  notes     speaker notes (press S in the deck)
Tags: "hide-input" shows only the output in the deck (the notebook keeps the code).
"""

import textwrap

SLIDE_TYPES = ("slide", "subslide", "fragment", "-", "skip", "notes")


def _cell(kind, source, slide, tags):
    if slide not in SLIDE_TYPES:
        raise ValueError(f"unknown slide type {slide!r}")
    meta = {"slideshow": {"slide_type": slide}}
    if tags:
        meta["tags"] = list(tags)
    return {"cell_type": kind, "source": textwrap.dedent(source).strip("\n"), "metadata": meta}


def md(source, slide="-", tags=()):
    return _cell("markdown", source, slide, tags)


def code(source, slide="-", tags=()):
    return _cell("code", source, slide, tags)


def slide(source, tags=()):
    return md(source, "slide", tags)


def sub(source, tags=()):
    return md(source, "subslide", tags)


def frag(source, tags=()):
    return md(source, "fragment", tags)


NOTES_MARK = ("<small>▸ <b>Speaker notes</b> — for the lecturer (the deck shows them in its "
              "speaker view, key S); collapsed in the notebook.</small>")


def notes(source):
    """Speaker notes: a notes-only cell (the deck puts it in reveal's speaker view), collapsed
    in JupyterLab (`jupyter.source_hidden`) and marked as notes if opened."""
    cell = md(NOTES_MARK + "\n\n" + textwrap.dedent(source).strip("\n"), "notes",
              tags=("speaker-notes",))
    cell["metadata"]["jupyter"] = {"source_hidden": True}
    return cell


def setup(source):
    """A code cell the learner runs but the deck leaves out."""
    return code(source, "skip")


def exercises(n, predict_expr, seed, predict_intro, scenarios=None, count=4):
    """The closing block every lesson shares: Predict, the lesson's questions (its own pool,
    mmviz.lessons.pools), the answer check. `seed`, `scenarios` and `count` are kept for the
    old call sites: the pool decides."""
    lesson = f"{n:02d}"
    return [
        slide(f"""
            ## Exercises

            1. **Predict.** {predict_intro} The widget stops before a few key
               events and asks what happens next — with the narration hidden, since it
               would give the answer away; then it shows you, and why.
            2. **Questions.** Drawn from this lesson's goals: you get two tries, a hint after
               the first, then the answer and the worked why; your score is kept.
               `lesson_questions("{lesson}", seed=7)` gives a fresh set.
            3. **Check.** The last cell checks that the reference answers agree with
               the questions (it is how the lesson is tested).
            """),
        code(f"show_predict({predict_expr})", "subslide"),
        code(f'questions = lesson_questions("{lesson}")\nquiz = show_questions(questions)',
             "subslide"),
        code("print(check_reference_answers(questions))", "skip"),
        code("# When you have tried them all, the reference answers and why:\n"
             "# reveal_answers(questions)", "skip"),
    ]