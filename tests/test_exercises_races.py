"""Questions about races: answers come from the recorded runs and the explorer's verdicts."""

import random

import pytest

from mmviz.exercises_races import (OUTCOMES, q_kernel_window, q_schedule, q_wait_lock,
                                   q_who_waits, race_questions)
from mmviz.lessons import check_reference_answers
from mmviz.model.errors import InputError
from mmviz.scenarios import get_race, run_race
from mmviz.scenarios.explore import explore


def test_same_seed_same_questions_and_every_answer_checks():
    a, b = race_questions(5, n=6), race_questions(5, n=6)
    assert [(q.prompt, q.choices, q.answer) for q in a] == [(q.prompt, q.choices, q.answer)
                                                             for q in b]
    assert len(a) == 6 and check_reference_answers(a).startswith("6 questions")
    assert {q.kind for q in race_questions(1, n=12)} == {"who-waits", "wait-lock", "schedule",
                                                        "kernel-window"}


def test_who_waits_is_granted_or_deadlocks_as_recorded():
    rng = random.Random(0)
    t = run_race(get_race("race-second-mmap"), "v4")
    [w] = [e for e in t.events if e.kind == "wait"]
    q = q_who_waits(t, rng, w)
    assert q.answer == "B[2] sleeps until A[1] releases mmap_lock, then takes it"
    d = run_race(get_race("race-lock-order-deadlock"), "v4")
    first = [e for e in d.events if e.kind == "wait"][0]
    q = q_who_waits(d, rng, first)
    assert q.answer.startswith("B[2] sleeps for good") and "deadlock" in q.answer
    assert q_wait_lock(d, rng, first).answer == "mmap_lock"


def test_schedule_and_kernel_window_follow_the_explorer():
    race = get_race("race-hugetlbfs-truncate")
    v3, mainline = explore(race, "v3"), explore(race, "mainline")
    assert q_kernel_window(v3, random.Random(0), race).answer == "yes"
    assert q_kernel_window(mainline, random.Random(0), race).answer == "no"
    for seed in range(6):
        q = q_schedule(v3, random.Random(seed), race)
        run = next(r for r in v3.runs if v3.point(r.switch_at) == q.subject)
        assert q.answer.startswith(OUTCOMES[run.verdict])
        assert check_reference_answers([q])


def test_bad_arguments_are_refused():
    with pytest.raises(InputError, match="unknown race"):
        race_questions(1, races=["no-such-race"])
    with pytest.raises(InputError, match="unknown kernel 'v9'"):
        race_questions(1, kernels=["v9"])
    with pytest.raises(InputError, match="non-negative"):
        race_questions(1, n=-1)
