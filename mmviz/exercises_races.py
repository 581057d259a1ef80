"""Questions about races of two tasks, answered from recorded runs (right by construction).

    from mmviz.exercises_races import race_questions
    for q in race_questions(seed=3, n=4):
        print(q.prompt, q.choices, q.answer)

Four sorts: who waits for whom at a wait, which lock a task waits for, what goes wrong when
B runs right after a given event of A (from the explorer's verdict for that schedule), and
whether any single-switch schedule of a race goes wrong under a kernel. The same seed gives
the same questions. Standard library only (the explorer runs the model, draws nothing).
"""

from __future__ import annotations

import random

from .exercises import NO, YES, Question, _options, check_count
from .model.errors import check_choices

#: The verdicts of `scenarios.explore`, as a learner would say them.
OUTCOMES = {
    "ok": "nothing goes wrong: the same as running A, then B",
    "different result": "a call returns something else than in the serial run",
    "violation": "the lock checker reports a broken rule",
    "broken invariant": "the address space is left inconsistent",
    "deadlock": "the two tasks deadlock",
}


def q_who_waits(trace, rng, wait) -> Question:
    """At a wait event: what happens to the task that asks for a lock another task holds."""
    from .render.narration import sentence
    from .trace.query import task_intervals
    me, lock = trace.task_label(wait.task), wait.data.get("lock")
    holders = [trace.task_label(p) for p in wait.data.get("holders", [])]
    holder = holders[0] if holders else "another task"
    iv = next((iv for iv in task_intervals(trace) if iv.what == "wait"
               and iv.pid == wait.task and iv.lock == lock and iv.start >= wait.seq), None)
    granted = iv is not None and iv.end is not None
    answer = (f"{me} sleeps until {holder} releases {lock}, then takes it" if granted else
              f"{me} sleeps for good: {holder} waits for something {me} holds (deadlock)")
    pool = [f"{me} takes {lock} at once: readers and writers share it",
            f"{me} gets -EAGAIN and its call fails",
            f"{holder} is forced to release {lock} so that {me} can go on",
            f"{me} sleeps until {holder} releases {lock}, then takes it",
            f"{me} sleeps for good: {holder} waits for something {me} holds (deadlock)"]
    how = (f"it waits from event {wait.seq} to event {iv.end}, when {holder} lets go"
           if granted else "neither task can go on: the checker reports the deadlock")
    return Question(
        f"In {trace.scenario} under {trace.kernel}, {me} reaches {wait.fn}() at event "
        f"{wait.seq} and asks for {lock}, which {holder} holds. What happens?",
        _options(rng, answer, pool), answer,
        f"{sentence(wait, trace.kernel)}: {how}. {trace.description}",
        "who-waits", trace.scenario, trace.kernel, wait.seq, lock, trace.title)


def q_wait_lock(trace, rng, wait) -> Question:
    """Which lock a task of the race waits for."""
    me, lock = trace.task_label(wait.task), wait.data.get("lock")
    names = sorted({n for e in trace.events for n in e.snapshot.locks_held} | {lock}
                   | {"mmap_lock", "anon_vma"})
    return Question(
        f"In {trace.scenario} under {trace.kernel} (its own schedule), {me} has to wait "
        f"in {wait.fn}() at event {wait.seq}. For which lock?", _options(rng, lock, names), lock,
        f"At event {wait.seq} {me} asks for {lock} while "
        + (", ".join(trace.task_label(p) for p in wait.data.get("holders", [])) or "another task")
        + f" holds it. {trace.description}",
        "wait-lock", trace.scenario, trace.kernel, wait.seq, lock, trace.title)


def _outcome_words(run) -> str:
    words = OUTCOMES[run.verdict]
    if run.verdict == "violation":
        words += f" ({', '.join(dict.fromkeys(run.violations))})"
    return words


def q_schedule(ex, rng, race) -> Question:
    """What goes wrong when B runs right after A's k-th event (one row of the exploration)."""
    failing = list(ex.failing)
    pick = (rng.choice(failing) if failing and rng.random() < 0.6 else rng.choice(ex.runs))
    answer = _outcome_words(pick)
    pool = {_outcome_words(r) for r in ex.runs} | set(OUTCOMES.values()) - {OUTCOMES["violation"]}
    c = ex.counts()
    return Question(
        f"{race.title} ({ex.race}, {ex.kernel}): B starts as soon as A has reached its "
        f"event {pick.switch_at} ({ex.point(pick.switch_at)}). What happens?",
        _options(rng, answer, pool), answer,
        f"The explorer ran this schedule: {answer}. Of the {len(ex.runs)} single-switch "
        "schedules, " + ", ".join(f"{n} {v}" for v, n in c.items() if n) + ". "
        + race.description, "schedule", ex.race, ex.kernel, None, ex.point(pick.switch_at),
        race.title)


def q_kernel_window(ex, rng, race) -> Question:
    """Whether any single-switch schedule of the race goes wrong under this kernel."""
    first = ex.shortest_failing
    answer = YES if first is not None else NO
    why = (f"Yes: {len(ex.failing)} of {len(ex.runs)} schedules go wrong, the first when B "
           f"runs after A's event {first.switch_at} ({ex.point(first.switch_at)}): "
           f"{_outcome_words(first)}." if first is not None else
           f"No: all {len(ex.runs)} schedules behave like the serial run.")
    return Question(
        f"Under {ex.kernel}, can any schedule of {ex.race} that switches once from A to B go "
        "wrong?", (YES, NO), answer, f"{why} {race.description}", "kernel-window", ex.race,
        ex.kernel, None, ex.kernel, race.title)


def race_questions(seed, n: int = 4, races=None, kernels=None) -> list:
    """n questions about races (default: every race of the catalog), drawn reproducibly."""
    from .model.variants import KERNELS
    from .scenarios import get_race, race_names, run_race
    from .scenarios.explore import explore
    check_count(n)
    pool = list(races) if races is not None else race_names()
    for name in pool:
        get_race(name)                                  # InputError for an unknown race
    ks = list(check_choices("kernel", KERNELS if kernels is None else kernels, KERNELS))
    rng = random.Random(seed)
    traces, explored, out, seen = {}, {}, [], set()
    for _ in range(40 * (n + 1)):
        if len(out) >= n:
            break
        name, kernel = rng.choice(pool), rng.choice(ks)
        race = get_race(name)
        sort = rng.choice(("who-waits", "wait-lock", "schedule", "kernel-window"))
        if sort in ("who-waits", "wait-lock"):
            if (name, kernel) not in traces:
                traces[(name, kernel)] = run_race(race, kernel)
            t = traces[(name, kernel)]
            waits = [e for e in t.events if e.kind == "wait"]
            if not waits:
                continue
            w = rng.choice(waits)
            q = (q_who_waits if sort == "who-waits" else q_wait_lock)(t, rng, w)
        else:
            if (name, kernel) not in explored:
                explored[(name, kernel)] = explore(race, kernel)
            ex = explored[(name, kernel)]
            q = (q_schedule if sort == "schedule" else q_kernel_window)(ex, rng, race)
        if q.prompt in seen:
            continue
        seen.add(q.prompt)
        out.append(q)
    return out
