"""Widgets driven from Python: set the cursor, read what every pane shows.

No browser here (see test_widgets_browser.py): ipywidgets run without a front-end, so these
check the kernel side — which frame each pane gets, the builder's choices, the alignment,
the questions and their answers.
"""

from __future__ import annotations

import re

import subprocess
import sys

import pytest

pytest.importorskip("ipywidgets")
pytest.importorskip("matplotlib")

from mmviz import InputError  # noqa: E402
from mmviz.scenarios import record  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def v3():
    return record("mapped-fail-hidden", kernel="v3")


@pytest.fixture(scope="module")
def v4():
    return record("mapped-fail-hidden", kernel="v4")


def test_import_mmviz_widgets_is_light():
    code = ("import sys, mmviz, mmviz.widgets, mmviz.exercises, mmviz.scenarios.custom; "
            "print(','.join(m for m in ('ipywidgets', 'matplotlib', 'PIL') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


# --- Stepper ---------------------------------------------------------------------------------

def test_stepper_panes_follow_the_index(v3):
    from mmviz.widgets import Stepper
    s = Stepper(v3, prerender=False)
    assert s.panes["error"].value == ""
    assert "mmviz-stepper" in s._dom_classes
    assert s.index == 0 and len(s) == len(v3.events)
    last = len(v3.events) - 1
    assert f"event <b>0</b> / {last}" in s.panes["label"].value
    first_layout, first_timeline = s.panes["layout"].value, s.panes["timeline"].value
    assert bytes(first_layout).startswith(PNG) and bytes(first_timeline).startswith(PNG)

    stored = next(e.seq for e in v3.events if e.what == "vma_stored")
    s.index = stored                              # vma#1 is stored in the tree
    e = v3.events[stored]
    assert e.kind == "vma"
    assert "stored in the VMA tree" in s.panes["narration"].value
    assert f"event <b>{stored}</b> / {last} · step <b>S7</b>" in s.panes["label"].value
    assert s.panes["layout"].value != first_layout
    # the timeline is drawn once; its cursor, over it, moves
    assert s.panes["timeline"].value == first_timeline
    assert f"data-seq='{stored}'" in s.panes["cursor"].value
    assert "<svg" in s.panes["callgraph"].value and "__mmap_new_vma" in s.panes["callgraph"].value
    node = s.frame.callgraph_node
    assert s.builder.tree.nodes[node].fn == "__mmap_new_vma"
    assert f"#mmviz-cg-node-{node} " in s.panes["marks"].value     # the current call marked
    assert "<svg" in s.panes["callstack"].value and "__mmap_new_vma" in s.panes["callstack"].value
    assert "mmviz/model/" in s.panes["source"].value
    assert s.panes["banner"].value == ""          # the violation is still ahead

    before = s.panes["cursor"].value
    s.index = stored + 1
    assert s.panes["cursor"].value != before      # the cursor moved

    s.index = 10_000                              # clamped, not an error
    assert s.index == len(v3.events) - 1
    s.close()


def test_stepper_banner_at_the_violation(v3):
    from mmviz.widgets import Stepper
    s = Stepper(v3, prerender=False)
    v = v3.violations[0]
    assert s.jump("violation") == v.seq
    banner = s.panes["banner"].value
    assert "unlock-not-held" in banner and "i_mmap_rwsem(/mnt/hidden)" in banner
    assert "call_mapped_hook" in s.panes["narration"].value
    s.step(+1)
    assert f"earlier, at event {v.seq}" in s.panes["banner"].value
    s.index = 0
    assert s.panes["banner"].value == ""


def test_stepper_jumps_and_buttons(v4):
    from mmviz.widgets import Stepper
    s = Stepper(v4, prerender=False)
    hooks = [e.seq for e in v4.events if e.kind == "hook" and e.data.get("phase") == "enter"]
    assert s.jump("hook") == hooks[0]
    assert s.jump("hook") == hooks[1]
    assert s.jump("hook", -1) == hooks[0]
    s.index = 0
    lock = s.jump("lock")
    assert v4.events[lock].kind in ("lock", "unlock")
    err = s.jump("error")
    assert v4.events[err].data.get("ret") == "-ENOMEM"       # vm_ops->mapped fails
    assert s.jump("violation") is None                      # v4 has none
    assert s.jump_buttons[("violation", +1)].disabled
    s.index = 5
    s.next_button.click()
    assert s.index == 6
    s.prev_button.click()
    s.prev_button.click()
    assert s.index == 4
    s.jump_buttons[("hook", +1)].click()
    assert s.index == hooks[0]
    with pytest.raises(ValueError):
        s.jump("nonsense")


def test_stepper_prerenders_in_the_background(v3):
    from mmviz.widgets import Stepper
    s = Stepper(v3, prerender=True)
    assert s.frames.wait_idle(timeout=60)
    assert len(s.frames) == len(v3.events)
    hits = s.frames.hits
    for i in range(len(v3.events)):
        s.index = i
    assert s.frames.hits - hits == len(v3.events) - 1       # every step came from the cache
    assert s.last_apply_ms is not None
    s.close()


def test_stepper_broken_renderer_shows_one_line_not_a_traceback(v3, monkeypatch):
    from mmviz.render import callgraph
    from mmviz.widgets import Stepper

    def boom(*a, **kw):
        raise RuntimeError("no graph today\nsecond line")
    monkeypatch.setattr(callgraph, "highlight_css", boom)
    s = Stepper(v3, prerender=False)
    s.index = 3
    err = s.panes["error"]
    assert "mmviz-error" in err._dom_classes
    assert "call graph: RuntimeError: no graph today" in err.value
    assert "second line" not in err.value and "Traceback" not in err.value
    assert "event <b>3</b>" in s.panes["label"].value   # the other panes still follow


def test_guard_turns_exceptions_into_the_error_pane(v3):
    from mmviz.widgets import Stepper
    s = Stepper(v3, prerender=False)
    s.errors.guard(lambda: 1 / 0)()
    assert "ZeroDivisionError" in s.panes["error"].value
    s.index = 2                                   # a good step clears it
    assert s.panes["error"].value == ""


def test_stepper_shows_the_frame_builders_pictures(v3):
    """One drawing path: the panes hold exactly what mmviz.render's frame builder made."""
    from mmviz.render.frame import FrameBuilder
    from mmviz.widgets import Stepper
    s = Stepper(v3, prerender=False)
    s.index = 29
    f = FrameBuilder(v3, width=s.builder.width, layout_height=s.builder.geometry.size[1]).frame(29)
    assert bytes(s.panes["layout"].value) == f.layout_png
    assert bytes(s.panes["timeline"].value) == s.builder.timeline.png
    assert s.panes["narration"].value == f.narration_html
    assert s.frame.changed == f.changed and s.frame.palette == f.palette
    assert s.panes["error"].value == ""


def test_stepper_on_a_one_event_trace():
    from mmviz.widgets import Stepper
    t = record("nommu-remap", kernel="v3")         # does not build: one error event
    s = Stepper(t, prerender=False)
    assert "does not build" in s.panes["header"].value
    assert "event <b>0</b> / 0" in s.panes["label"].value
    s.step(1)
    assert s.index == 0


# --- Scenario Builder --------------------------------------------------------------------------

def test_builder_run_records_a_new_trace():
    from mmviz.widgets import ScenarioBuilder, Stepper
    b = ScenarioBuilder()
    assert b.options["kernel"] == "v4" and b.options["file"] == "regular"
    assert b.errors.widget.value == ""
    c = b.controls
    c["kernel"].value = "v3"
    c["hide"].value = True
    c["fail"].value = "mapped"
    c["errno"].value = "ENOMEM"
    t = b.run()
    assert t is b.trace and t.scenario == "custom"
    assert t.kernel == "v3" and t.result.errno == "ENOMEM"
    assert [v.kind for v in t.violations] == ["unlock-not-held"]
    assert isinstance(b.output.children[0], Stepper) and b.stepper.trace is t
    assert "mmap returns -ENOMEM" in b.msg.value

    c["kernel"].value = "v4"
    t4 = b.run()
    assert t4 is not t and t4.kernel == "v4" and not t4.violations
    assert t4.result.errno == "ENOMEM"


@pytest.mark.parametrize("options, words", [
    ({"fail": "mmap"}, "only legacy and stacked files have f_op->mmap"),
    ({"file": "stacked", "lower": "stacked"}, "not itself stacked"),
    ({"file": "anonymous", "fail": "mapped"}, "no driver hook"),
    ({"file": "legacy", "fail": "mapped"}, "fail 'mmap' instead"),
    ({"file": "regular", "fail": "action_complete"}, "MMAP_NOTHING"),
    ({"mmu": False, "neighbours": "left"}, "without an MMU refuses MAP_FIXED"),
])
def test_builder_refused_combination_is_explained(options, words):
    from mmviz.widgets import ScenarioBuilder
    b = ScenarioBuilder()
    b.set(**options)
    assert "Cannot run this combination" in b.message and words in b.message
    assert b.run() is None                          # no exception, no trace
    assert b.trace is None and b.output.children == ()
    assert "mmviz-builder-refused" in b.msg.value


def test_builder_rejects_unknown_values_from_python():
    from mmviz.widgets import ScenarioBuilder
    with pytest.raises(InputError):
        ScenarioBuilder(kernel="v9")


def test_build_custom_geometry_and_merging():
    from mmviz.scenarios.custom import build_custom, run_custom
    sc = build_custom({"file": "regular", "neighbours": "both"})
    assert sc.name == "custom" and "neighbour" in sc.title
    t = run_custom({"file": "regular", "neighbours": "both"})
    assert t.result.ret == 0x10001000 and t.final.map_count == 1          # merged into one
    assert not any(e.kind == "hook" and e.fn == "vm_ops->mapped" for e in t.events)
    t = run_custom({"file": "pfn-remap", "neighbours": "both"})
    assert t.final.map_count == 3                                          # VM_SPECIAL
    t = run_custom({"file": "anonymous", "fixed_over": True})
    assert t.result.outcome == "ok" and [v.perms for v in t.final.vmas] == ["rw-p"]


def test_custom_failure_hits_only_the_recorded_call():
    from mmviz.scenarios.custom import run_custom
    t = run_custom({"kernel": "v4", "file": "pfn-remap", "fail": "action_complete",
                    "neighbours": "left", "errno": "EAGAIN"})
    assert t.initial.map_count == 1                    # the neighbour was mapped fine
    assert t.result.errno == "EAGAIN"
    assert [v.start for v in t.final.vmas] == [0x10000000]


def test_custom_reproduces_the_catalog_story(v3):
    from mmviz.scenarios.custom import run_custom
    t = run_custom({"kernel": "v3", "file": "regular", "hide": True, "fail": "mapped"})
    assert [v.kind for v in t.violations] == [v.kind for v in v3.violations]
    assert t.result == v3.result


# --- Compare ---------------------------------------------------------------------------------------

def test_align_covers_both_traces_in_order(v3, v4):
    from mmviz.trace.align import align
    rows = align(v3, v4)
    assert [r.a for r in rows if r.a is not None] == list(range(len(v3.events)))
    assert [r.b for r in rows if r.b is not None] == list(range(len(v4.events)))
    for r in rows:                                        # steps face steps
        if r.a is not None and r.b is not None and v3.events[r.a].step:
            assert v3.events[r.a].step == v4.events[r.b].step


def test_compare_flags_the_violation_row(v3, v4):
    from mmviz.widgets import Compare
    c = Compare(v3, v4, prerender=False)
    assert c.panes["error"].value == ""
    assert "mmviz-compare" in c._dom_classes
    viol = [k for k, r in enumerate(c.rows) if r.violation]
    assert len(viol) == 1
    r = c.rows[viol[0]]
    assert r.status == "only-a" and v3.events[r.a].kind == "violation"
    assert c.summary["only-a"] > 0 and c.summary["only-b"] > 0
    # the ->mapped call is matched but the locks differ: v4 still holds i_mmap_rwsem
    mapped = [r for r in c.rows if r.a is not None and r.b is not None
              and v3.events[r.a].fn == "vm_ops->mapped" and v3.events[r.a].data.get("phase") == "enter"]
    assert mapped and mapped[0].status == "changed" and "locks" in mapped[0].why

    first = c.jump_difference(+1)
    assert first is not None and c.rows[first].differs
    c.index = viol[0]
    assert "unlock-not-held" in c.panes["banner_a"].value
    assert c.panes["banner_b"].value == ""
    assert "no matching event in B" in c.panes["narration_b"].value
    assert "mmviz-row-violation" in c.panes["table"].value
    assert "only in A" in c.panes["label"].value and "violation" in c.panes["label"].value
    la = c.panes["layout_a"].value
    c.index = 0
    assert c.panes["layout_a"].value != la and bytes(c.panes["layout_a"].value).startswith(PNG)


# --- Predict and exercises ---------------------------------------------------------------------------

def test_predict_hides_what_gives_the_answer_away_then_hints_then_reveals(v4):
    from mmviz.widgets import Predict
    p = Predict(v4, prerender=False)
    assert len(p.questions) >= 3
    q = p.current
    assert p.slider.max == q.seq - 1 and p.index == q.seq - 1    # the event is hidden
    # nothing on screen names the answer: no narration, call stack, function or result
    shown = p.panes["narration"].value + p.panes["callstack"].value + p.panes["label"].value
    assert "hidden while you predict" in shown and "<svg" not in shown
    assert q.answer not in shown and (q.subject or "?") not in p.panes["label"].value
    assert v4.result.summary() not in p.children[0].value and "violation" not in p.children[0].value
    wrong = [c for c in q.choices if c != q.answer]
    assert p.answer(wrong[0]) is False
    assert p.predictions[-1] == {"question": 0, "seq": q.seq, "prompt": q.prompt, "try": 1,
                                 "choice": wrong[0], "right": False}
    assert "Hint:" in p.panes["feedback"].value and q.answer not in p.panes["feedback"].value
    assert p.slider.max == q.seq - 1                             # still hidden
    assert p.answer(wrong[1] if len(wrong) > 1 else wrong[0]) is False
    assert "Not quite" in p.panes["feedback"].value and "Why:" in p.panes["feedback"].value
    assert p.slider.max == q.seq                                 # revealed
    assert "<svg" in p.panes["callstack"].value                 # and the views are back
    p.next_question()
    q2 = p.current
    assert q2.seq > q.seq and p.slider.max == q2.seq - 1
    assert p.answer(q2.answer) is True
    assert "Right" in p.panes["feedback"].value
    assert p.score == (1, 2, len(p.questions))
    assert p.panes["error"].value == ""
    while p.current is not None:
        p.next_question()
    assert "All done" in p.panes["question"].value
    assert p.slider.max == len(v4.events) - 1


def test_predict_at_chosen_steps_and_check_without_choice(v3):
    from mmviz.widgets import Predict
    lock = next(e.seq for e in v3.events if e.kind == "lock" and "i_mmap" in e.data.get("lock", ""))
    p = Predict(v3, at=[lock], prerender=False)
    assert [q.seq for q in p.questions] == [lock]
    assert p.current.kind == "next-lock" and p.current.answer == "i_mmap_rwsem(/mnt/hidden)"
    assert "mapped-fail-hidden under v3" in p.current.prompt     # unique across lessons
    assert p.check() is None and "Pick an answer" in p.panes["feedback"].value
    p.check_button.click()                                      # no traceback either
    with pytest.raises(InputError):
        Predict(v3, at=[10_000])


def _derive(q, t):
    """The answer recomputed from the trace, independently of mmviz.exercises."""
    ev = t.events
    r = t.result
    if q.kind == "returns":
        if r.outcome == "deadlock":
            return "deadlock" in q.answer
        return q.answer == (f"-{r.errno}" if r.errno else f"{r.ret:#x}")
    if q.kind == "vma-count":
        return q.answer == str(len(t.final.vmas))
    if q.kind == "picture":
        m = re.match(r"In \S+ under \S+ the call maps \[(0x[0-9a-f]+), (0x[0-9a-f]+)\)", q.prompt)
        lo, hi = int(m.group(1), 16), int(m.group(2), 16)
        over = [v for v in t.final.vmas if v.start < hi and v.end > lo]
        if not over:
            return q.answer == "nothing is mapped there"
        if len(over) == 1:
            return q.answer == f"one VMA [{over[0].start:#x}, {over[0].end:#x})"
        return q.answer.startswith(f"{len(over)} VMAs")
    if q.kind == "hook-order":
        names = []
        for e in ev:
            if e.kind == "hook" and e.data.get("phase") == "enter" and (not names or names[-1] != e.fn):
                names.append(e.fn)
        return q.answer.split(" → ") == names
    if q.kind == "errno-step":
        return q.answer.startswith(f"-{r.errno},") and r.errno
    if q.kind == "lockdep":
        return (q.answer.startswith("nothing") if not t.violations
                else t.violations[0].kind.split("-")[0] in q.answer.replace("double unlock",
                                                                           "unlock"))
    if q.kind == "which-waits":
        e = next(e for e in ev if e.kind == "wait")
        return q.answer.endswith(f"waits for {e.data['lock']}")
    if q.kind == "variant-diff":
        other = record(q.scenario, kernel=q.subject)
        words = [(f"returns -{x.result.errno}" if x.result.errno else
                  "never returns (deadlock)" if x.result.outcome == "deadlock" else "succeeds",
                  len(x.final.vmas), bool(x.violations)) for x in (t, other)]
        if words[0] == words[1]:
            return q.answer == f"the same as under {q.subject}"
        ret, n, bad = words[0]
        return (q.answer.startswith(ret) and f" {n} VMA" in q.answer
                and ("is quiet" in q.answer) != bad)
    if q.kind == "locks-at-hook":
        e = next(e for e in ev if e.kind == "hook" and e.fn == q.subject)
        return set(q.answer.split(" + ")) == set(e.snapshot.locks_held)
    e = ev[q.seq]
    if q.kind in ("next-lock", "next-unlock"):
        return e.kind == q.kind[5:] and e.data["lock"] == q.answer
    if q.kind == "next-hook":
        return e.kind == "hook" and e.fn == q.answer
    if q.kind == "next-step":
        return e.step == q.answer
    if q.kind == "next-call":
        return e.fn == q.answer
    if q.kind == "next-problem":
        return e.kind in q.answer or (e.kind == "warn" and "WARNING" in q.answer) or \
            (e.kind == "violation" and "lock-rule" in q.answer)
    raise AssertionError(f"unknown question kind {q.kind}")


def test_exercises_are_reproducible():
    from mmviz.exercises import generate
    a = generate(seed=42, n=8)
    b = generate(seed=42, n=8)
    assert [(q.prompt, q.choices, q.answer) for q in a] == [(q.prompt, q.choices, q.answer) for q in b]
    c = generate(seed=43, n=8)
    assert [q.prompt for q in a] != [q.prompt for q in c]
    assert generate(seed=1, n=0) == []
    only = generate(seed=5, n=4, scenarios=["file-merge-skips-mapped"])
    assert all(q.scenario == "file-merge-skips-mapped" for q in only)
    with pytest.raises(InputError):
        generate(seed=1, n=2, scenarios=["no-such-scenario"])
    with pytest.raises(InputError):
        generate(seed=1, n=2, kinds=["no-such-kind"])


@pytest.mark.parametrize("seed", range(8))
def test_every_exercise_answer_matches_its_trace(seed):
    from mmviz.exercises import generate
    for q in generate(seed=seed, n=10):
        assert q.answer in q.choices and len(set(q.choices)) == len(q.choices)
        assert q.check(q.answer) and q.check(q.choices.index(q.answer))
        assert not any(q.check(c) for c in q.choices if c != q.answer)
        assert q.explanation and q.hint
        assert q.answer not in q.prompt, q.prompt                # a prompt never states it
        t = record(q.scenario, kernel=q.kernel)
        assert _derive(q, t), (q.kind, q.prompt, q.answer)


def test_a_failing_call_is_never_offered_the_address_of_a_new_mapping():
    import random
    from mmviz.exercises import q_return
    for name in ("remap-pfn-fail", "prepare-fail", "mapped-fail-hidden", "action-fail-hidden"):
        for kernel in ("v3", "v4"):
            q = q_return(record(name, kernel=kernel), random.Random(1))
            assert not any(c.startswith("0x") or "address" in c for c in q.choices), q.choices
    q = q_return(record("anon-merge-both"), random.Random(1))
    assert sum("(the address of the new mapping)" in c for c in q.choices) == 0


def test_no_step_prompt_quotes_an_event():
    from mmviz.exercises import interesting_points, question_at
    from mmviz.render.narration import sentence
    for name, kernel in (("mapped-fail-hidden", "v3"), ("file-prepare", "v4"),
                         ("action-fail-hidden", "baseline")):
        t = record(name, kernel=kernel)
        for seq in interesting_points(t):
            q = question_at(t, seq, standalone=True)
            assert sentence(t.events[seq - 1], kernel) not in q.prompt
            assert q.answer not in q.prompt


def test_the_brief_examples():
    from mmviz.exercises import q_errno_step, q_hook_order, q_locks_at_hook, q_return
    import random
    rng = random.Random(0)
    assert q_return(record("mapped-fail-hidden", kernel="v3"), rng).answer == "-ENOMEM"
    q = q_locks_at_hook(record("mapped-fail-hidden", kernel="v4"), rng)
    assert "i_mmap_rwsem(/mnt/hidden)" in q.answer and "mmap_lock" in q.answer
    q3 = q_locks_at_hook(record("mapped-fail-hidden", kernel="v3"), rng)
    assert "i_mmap_rwsem" not in q3.answer                   # v3 dropped it before ->mapped
    assert q_hook_order(record("file-merge-skips-mapped"), rng) is None   # one hook: no order
    q = q_errno_step(record("remap-pfn-fail"), rng)
    assert q.answer == "-ENOMEM, born in completing the action and its hooks (S10)"
    assert q_errno_step(record("prepare-fail"), rng).answer.endswith("mmap_prepare (S3)")
