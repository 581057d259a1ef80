"""Lesson 11's questions: each sort's answer is what the model (held to the kernel by the
differential tests) does, and the rules the explanations state hold in every drawn case."""

import pytest

from mmviz.exercises_space import (KINDS, SORTS, _errno_cases, space_questions,
                                   A, P, _world)
from mmviz.lessons.questions import check_reference_answers
from mmviz.model.errors import InputError


def test_same_seed_same_questions_and_every_sort_drawn():
    a, b = space_questions(4, n=6), space_questions(4, n=6)
    assert [q.prompt for q in a] == [q.prompt for q in b]
    assert {q.kind for q in a} == set(KINDS)
    assert check_reference_answers(a + space_questions(9, n=12))


def test_many_seeds_no_repeats_and_consistent():
    sets = []
    for seed in range(30):
        qs = space_questions(seed, n=6)
        check_reference_answers(qs)
        prompts = [q.prompt for q in qs]
        assert len(prompts) == len(set(prompts)) == 6
        sets.append(frozenset(prompts))
    assert len(set(sets)) == 30                      # each seed a new set of problems


def test_mremap_rule_a_written_vma_never_merges_an_unwritten_one_always_does():
    seen = set()
    for seed in range(60):
        import random
        q = SORTS["mremap-merge"](random.Random(seed))
        written = "at page 0 has been written" in q.prompt
        seen.add(written)
        if written:
            assert q.answer.endswith("kept its old vm_pgoff"), q.prompt
        else:
            assert q.answer.startswith("it merges"), q.prompt
    assert seen == {True, False}


def test_fork_rule_only_a_child_with_pages_refuses_the_merge():
    import random
    for seed in range(60):
        q = SORTS["fork-merge"](random.Random(seed))
        refused = "then the child" in q.prompt.lower() and "writes to page 0" in q.prompt
        assert q.answer.startswith("2:" if refused else "1:"), q.prompt


def test_fork_inherit_rules():
    import random
    for seed in range(60):
        q = SORTS["fork-inherit"](random.Random(seed))
        inside = " is inside " in q.explanation
        if "MADV_DONTFORK" in q.prompt and inside:
            assert q.answer.startswith("nothing")
        elif "MADV_WIPEONFORK" in q.prompt and inside:
            assert q.answer.startswith("0:")
        else:
            assert q.answer.split(":")[0] == q.prompt.split("with the byte ")[1].split(",")[0]


@pytest.mark.parametrize("i", range(8))
def test_errno_cases_match_their_explanation(i):
    desc, run, why = _errno_cases()[i]
    ret = run(_world(), 3)
    words = {"-ENOMEM": -12, "-EINVAL": -22}
    stated = [w for w in words if w in why]
    if stated:
        assert ret == words[stated[0]], (desc, ret)
    elif "returns 0" in why:
        assert ret == 0, (desc, ret)
    else:
        assert ret > 0 and "address" in why, (desc, ret)


def test_success_is_offered_in_the_calls_own_terms():
    import collections
    qs = [q for s in range(80) for q in space_questions(s, 1, kinds=["space-errno"])]
    answers = collections.Counter(q.answer for q in qs)
    assert answers["0 (it succeeds)"] and answers["the address of the VMA (it succeeds)"]
    for q in qs:
        if "mremap" not in q.prompt:
            assert "the address of the VMA (it succeeds)" not in q.choices, q.prompt
        else:
            assert "0 (it succeeds)" not in q.choices, q.prompt


def test_rmap_walk_a_writer_after_fork_no_longer_maps_the_page():
    import random
    for seed in range(40):
        q = SORTS["rmap-walk"](random.Random(seed))
        for pid in (2, 3):
            if f"process {pid} writes" in q.prompt:
                assert str(pid) not in q.answer.replace("process", ""), q.prompt
        assert "1" in q.answer                     # the parent keeps its page


def test_bad_arguments_are_refused():
    with pytest.raises(InputError):
        space_questions(1, n=-1)
    with pytest.raises(InputError):
        space_questions(1, kinds=["no-such-kind"])
    assert space_questions(1, n=0) == []
