"""Exercises: questions whose answers come from recorded traces, so they are right by construction.

    from mmviz.exercises import generate
    for q in generate(seed=7, n=5, kinds=["vma-count", "hook-order"]):
        print(q.prompt, q.choices)
        q.check(q.choices[0])          # True or False
        print(q.hint)                  # a nudge after a wrong try, never the answer
        print(q.answer, q.explanation) # the worked why

The questions need the model in the reader's head, as the simulators of OSTEP ask them:
predict the picture (how many VMAs, where the new mapping ends up), the order of the driver
hooks, the errno and the step that produced it, what the lock checker reports, which task
waits, what another kernel version does with the same call. Choices are plausible outcomes
of the same kind (a failing call is never offered "the address of the new mapping"), and a
prompt never states its own answer. Whole-run questions name the scenario and kernel they
ask about; step questions (`question_at`, asked by `Predict` while stepping) are about the
event that is hidden next.

The same seed gives the same questions (and the same order of choices). Standard library
only.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field

from .model.errors import check_choices

HOOKS = ("f_op->mmap_prepare", "f_op->mmap", "vm_ops->mapped", "success_hook", "error_hook",
         "vm_ops->close")

# The reasoning behind an answer, in the words of the spec (§2.3-§3): added to explanations.
WHY_HOOK = {
    "f_op->mmap_prepare": "mmap_prepare is the first driver hook: it runs at S3, before any "
                          "VMA exists, so a failure there leaves nothing to undo.",
    "f_op->mmap": "the deprecated .mmap hook runs with the VMA already allocated, after the "
                  "merge decision.",
    "vm_ops->mapped": "->mapped runs once for a newly created mmap_prepare VMA, after its action "
                      "completed (S10); a merged mapping never gets it.",
    "success_hook": "the success_hook runs after the action succeeded on the new VMA.",
    "error_hook": "the error_hook runs when completion failed, and may replace the error.",
    "vm_ops->close": "->close runs when a VMA is removed, after its pages were zapped.",
}
WHY_LOCK = {
    "mmap_lock": "mmap() holds mmap_lock for write for the whole change of the address space.",
    "vma_lock": "a VMA is write-locked before it is stored or changed, so page faults on it "
                "wait until mmap_lock is dropped.",
    "i_mmap_rwsem": "i_mmap_rwsem protects the file's rmap (i_mmap); with "
                    "hide_from_rmap_until_complete it stays held from the link until the "
                    "action completes.",
    "anon_vma": "the anon_vma lock protects the anonymous rmap while VMAs are merged or split.",
}
# A nudge after a wrong try: what to think about, never the answer.
HINTS = {
    "vma-count": "Count the VMAs before the call. Does the new range touch a neighbour it may "
                 "merge with (same flags, same open file, contiguous offsets, no VM_SPECIAL)? "
                 "Does anything split, or get unmapped on an error path?",
    "picture": "Where does the new range sit, and which neighbours touch it? A merge extends a "
               "neighbour instead of creating a VMA; a failure after the VMA exists unmaps it.",
    "hook-order": "mmap_prepare runs at S3, before any VMA exists; a legacy .mmap runs at S7 "
                  "on the allocated VMA; the action, ->mapped and the success or error hook "
                  "run at S10, in the order the kernel version's mmap_action_finish() has.",
    "errno-step": "Which driver callback or step fails in this scenario, and can anything on the "
                  "way back (an error_hook, error_override) replace the error?",
    "variant-diff": "Recall what changed between the versions (lesson 07): where the rmap lock "
                    "is released, whether the success_hook's error unmaps, and when do_munmap "
                    "runs relative to the unlock.",
    "returns": "Does any step fail? If one does, which error does the error path hand back, "
               "and can a hook replace it? If none does, where does the new VMA start?",
    "lockdep": "Follow i_mmap_rwsem through the call: who takes it, who releases it, how many "
               "times, and does anyone take it again while it is held?",
    "which-waits": "Which lock does the first task hold at the moment the second one asks for "
                   "it, and in which mode does each ask?",
    "locks-at-hook": "mmap_lock is held for the whole call. Is the new VMA write-locked by "
                     "then? Is the file's rmap lock still held (the hide flag) at that point?",
    "next-lock": "Which structure is about to change: the VMA tree, a VMA, a file's i_mmap?",
    "next-unlock": "Which lock has done its job? Under hiding, the rmap lock is released once "
                   "the action is complete.",
    "next-hook": "Which stage comes next: the descriptor (S3), the VMA (S7), or completion (S10)?",
    "next-step": "Recall the numbered stages of __mmap_region: S0-S2 set-up, S3 prepare, S5-S6 "
                 "merge, S7 new VMA, S8 copy, S9 complete, S10 action and hooks, S11 return.",
    "next-call": "Which function does the code you have seen so far call next?",
    "next-problem": "Is a lock being released that this task does not hold, or taken twice? Is "
                    "the kernel checking a rule it can only warn about?",
}


def _why_lock(name: str) -> str:
    for family, text in WHY_LOCK.items():
        if name.startswith(family):
            return _cap(text)
    return ""


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


YES, NO = "yes", "no"


@dataclass(frozen=True)
class Question:
    prompt: str
    choices: tuple
    answer: str
    explanation: str              # the worked why, shown after the reveal
    kind: str                     # see KINDS and STEP_KINDS
    scenario: str = ""
    kernel: str = ""
    seq: int | None = None        # the event the question is about (hidden until answered)
    subject: str = ""             # the hook, lock or VMA asked about
    context: str = field(default="", compare=False)   # what the reader sees before answering
    hint: str = field(default="", compare=False)      # shown after a wrong try
    leaks: tuple = field(default=(), compare=False)   # regexes that would state the answer
    quotes: tuple = field(default=(), compare=False)  # (scenario, kernel) the prompt states

    def check(self, choice) -> bool:
        """True if `choice` (the text of a choice, or its index) is the answer."""
        if isinstance(choice, int) and not isinstance(choice, bool):
            if not 0 <= choice < len(self.choices):
                return False
            choice = self.choices[choice]
        return choice == self.answer


#: Questions about a whole recorded call (a scenario under one kernel).
KINDS = ("vma-count", "picture", "hook-order", "errno-step", "variant-diff", "returns",
         "lockdep", "which-waits", "locks-at-hook")
#: Questions about the next event, asked while stepping (`question_at`, `Predict`).
STEP_KINDS = ("next-lock", "next-unlock", "next-hook", "next-step", "next-call",
              "next-problem")


# --- helpers -------------------------------------------------------------------------------

def _say(trace, e) -> str:
    from .render.narration import sentence
    return sentence(e, trace.kernel)


def _step_of(trace, seq):
    from .trace.query import step_at
    return step_at(trace, seq)


def _where(trace, seq) -> str:
    e = trace.events[seq]
    st = _step_of(trace, seq)
    step = f", spec step {st.step} ({_say(trace, st)})" if st is not None else ""
    return f"event {seq}{step}: {_say(trace, e)}"


def _locks(locks) -> str:
    return " + ".join(locks) if locks else "no lock at all"


def _options(rng, answer, pool, k=4):
    """The answer plus up to k-1 distinct distractors from pool, shuffled by rng."""
    others = sorted({p for p in pool if p != answer})
    rng.shuffle(others)
    choices = [answer] + others[: k - 1]
    rng.shuffle(choices)
    return tuple(choices)


def _name(trace) -> str:
    mode = "" if trace.config.get("mmu", True) else " without an MMU"
    return f"{trace.scenario} under {trace.kernel}{mode}"


def _errno_re(word: str) -> str:
    return re.escape(word) + r"\b"


def outcome_words(trace) -> str:
    """What the call did, in one phrase: 'returns -ENOMEM, 0 VMAs left, the checker is
    quiet' (the choices of a variant question)."""
    r = trace.result
    if r.outcome == "deadlock":
        ret = "never returns (deadlock)"
    elif r.outcome == "build-error":
        ret = "does not build"
    elif r.errno:
        ret = f"returns -{r.errno}"
    else:
        ret = "succeeds"
    n = len(trace.final.vmas)
    viol = trace.violations
    checker = (f"the lock checker reports {viol[0].kind}" if viol else "the lock checker is quiet")
    return f"{ret}, {n} VMA{'s' if n != 1 else ''} left, {checker}"


def _final_strip(trace) -> str:
    from .render.text import ascii_strip
    return ascii_strip(trace.final.vmas, legend=False).strip()


def _vma_story(trace, limit=4) -> str:
    """The events that changed the VMAs, as sentences."""
    from .trace.query import targets
    seqs = targets(trace).get("vma", [])
    picks = [trace.events[s] for s in seqs if trace.events[s].kind in ("vma", "note", "lock")]
    if not picks:
        return ""
    said = [f"event {e.seq}: {_say(trace, e)}" for e in picks[:limit]]
    more = f" (and {len(picks) - limit} more)" if len(picks) > limit else ""
    return "; ".join(said) + more + "."


# --- questions about a whole run ----------------------------------------------------------------

# The outermost modelled function of a system call, and the call's name.
SYSCALL_OF = {"ksys_mmap_pgoff": "mmap", "do_mremap": "mremap", "do_mlock": "mlock",
              "sys_munlock": "munlock", "do_madvise": "madvise", "copy_process": "fork",
              "sys_brk": "brk", "do_mprotect_pkey": "mprotect"}


def _syscall_name(trace) -> str:
    """The system call whose result the trace records: the last one called at depth 0."""
    calls = [e.fn for e in trace.events if e.kind == "call" and e.depth == 0]
    return SYSCALL_OF.get(calls[-1], "mmap") if calls else "mmap"


def q_vma_count(trace, rng) -> Question | None:
    """How many VMAs does the process have after the call?"""
    if trace.result.outcome in ("unsupported", "build-error") or not trace.events:
        return None
    n = len(trace.final.vmas)
    before = len(trace.initial.vmas)
    pool = {str(x) for x in (n - 1, n + 1, n + 2, before, before + 1) if x >= 0}
    answer = str(n)
    why = (f"Before the call the process had {before} VMA{'s' if before != 1 else ''}; after "
           f"it, {n}: {_final_strip(trace)}. What changed them: {_vma_story(trace)} "
           f"{trace.description}")
    return Question(f"In {_name(trace)}: how many VMAs does the process have after the call?",
                    _options(rng, answer, pool), answer, why.strip(), "vma-count",
                    trace.scenario, trace.kernel, None, "map_count", trace.title,
                    HINTS["vma-count"],
                    leaks=(rf"\b{n} VMAs?\b", rf"VMAs left: {n}\b", rf"map_count {n}\b",
                           rf"\+{n} VMA"))


def _mapped_range(trace):
    s0 = next((e for e in trace.events if e.step == "S0" and "start" in e.data), None)
    if s0 is None:
        return None
    return s0.data["start"], s0.data["end"]


def _cover(vmas, lo, hi) -> str:
    """The VMAs over [lo, hi) as a phrase: 'one VMA [0x...,0x...)', 'nothing'."""
    over = sorted((v for v in vmas if v.start < hi and v.end > lo), key=lambda v: v.start)
    if not over:
        return "nothing is mapped there"
    if len(over) == 1:
        v = over[0]
        return f"one VMA [{v.start:#x}, {v.end:#x})"
    return f"{len(over)} VMAs from {over[0].start:#x} to {over[-1].end:#x}"


def q_picture(trace, rng) -> Question | None:
    """Predict the picture: what covers the range the call maps, once it returns?"""
    rng_ = _mapped_range(trace)
    if rng_ is None or trace.result.outcome in ("unsupported", "build-error"):
        return None
    lo, hi = rng_
    final = trace.final.vmas
    answer = _cover(final, lo, hi)
    init = sorted(trace.initial.vmas, key=lambda v: v.start)
    left = next((v for v in reversed(init) if v.end <= lo), None)
    right = next((v for v in init if v.start >= hi), None)
    pool = {"nothing is mapped there", f"one VMA [{lo:#x}, {hi:#x})"}
    if left is not None:
        pool.add(f"one VMA [{left.start:#x}, {hi:#x})")
    if right is not None:
        pool.add(f"one VMA [{lo:#x}, {right.end:#x})")
    if left is not None and right is not None:
        pool.add(f"one VMA [{left.start:#x}, {right.end:#x})")
    pool.add(f"2 VMAs from {lo:#x} to {hi:#x}")
    if len(pool - {answer}) < 2:
        return None
    why = (f"After the call: {_final_strip(trace)}. {_vma_story(trace)} {trace.description}")
    return Question(f"In {_name(trace)} the call maps [{lo:#x}, {hi:#x}). When it returns, what "
                    "covers that range?", _options(rng, answer, pool), answer, why.strip(),
                    "picture", trace.scenario, trace.kernel, None, "layout", trace.title,
                    HINTS["picture"], leaks=(re.escape(answer),))


def _hook_enters(trace, hook=None):
    return [e for e in trace.events if e.kind == "hook" and e.data.get("phase") == "enter"
            and (hook is None or e.fn == hook)]


def q_hook_order(trace, rng) -> Question | None:
    """In what order are the driver hooks called?"""
    calls = []
    for e in _hook_enters(trace):
        if not calls or calls[-1][0] != e.fn:
            calls.append((e.fn, e.seq))
    if len(calls) < 2:
        return None
    answer = " → ".join(fn for fn, _ in calls)
    names = [fn for fn, _ in calls]
    pool = set()
    for i in range(len(names) - 1):              # two neighbours swapped
        swapped = names[:i] + [names[i + 1], names[i]] + names[i + 2:]
        pool.add(" → ".join(swapped))
    pool.add(" → ".join(names[:-1]))             # the last one never runs
    extra = next((h for h in ("vm_ops->mapped", "success_hook", "error_hook", "vm_ops->close")
                  if h not in names), None)
    if extra:
        pool.add(" → ".join(names + [extra]))
    why = "; ".join(f"{fn} at {_where(trace, seq)}" for fn, seq in calls) + ". " + " ".join(
        _cap(WHY_HOOK.get(fn, "")) for fn in dict.fromkeys(names))
    return Question(f"In {_name(trace)}: in what order are the driver's hooks called?",
                    _options(rng, answer, pool), answer, why, "hook-order", trace.scenario,
                    trace.kernel, None, "hooks", trace.title, HINTS["hook-order"])


_ERRNOS = ("-ENOMEM", "-EINVAL", "-EAGAIN", "-EIO", "-EPERM", "-ENODEV")
_PLACES = {"S3": "the driver's mmap_prepare (S3)", "S7": "setting up the new VMA (S7)",
           "S10": "completing the action and its hooks (S10)", "S2": "__mmap_setup (S2)",
           "S4": "the prepare path (S4)"}


def _born(trace):
    """(errno word, step, event) where the call's error is born, or None."""
    from .trace.query import targets
    r = trace.result
    if not r.errno:
        return None
    errs = targets(trace)["error"]
    for seq in errs:
        st = _step_of(trace, seq)
        return f"-{r.errno}", (st.step if st is not None else None), trace.events[seq]
    return f"-{r.errno}", None, None


def q_errno_step(trace, rng) -> Question | None:
    """mmap() fails: with which errno, and in which step is the error born?"""
    b = _born(trace)
    if b is None or b[1] is None:
        return None
    word, step, e = b
    place = _PLACES.get(step, f"step {step}")
    answer = f"{word}, born in {place}"
    pool = {f"{w}, born in {p}" for w in {word, *rng.sample(_ERRNOS, 3)}
            for p in {place, *rng.sample(sorted(set(_PLACES.values())), 3)}}
    why = (f"The error is born at {_where(trace, e.seq)}. It travels back up the call chain "
           f"to mmap(), which returns {word}. {trace.description}")
    return Question(f"In {_name(trace)} {_syscall_name(trace)}() fails. With which error, and "
                    "where is the error "
                    "born?", _options(rng, answer, pool), answer, why, "errno-step",
                    trace.scenario, trace.kernel, e.seq, word, trace.title, HINTS["errno-step"],
                    leaks=(_errno_re(word),))


def q_return(trace, rng) -> Question | None:
    """What does mmap() return? (failures are offered failures, successes addresses)"""
    if trace.result.outcome in ("unsupported", "build-error"):
        return None
    answer = trace.result.summary()
    if trace.result.errno or trace.result.outcome == "deadlock":
        pool = {w for w in _ERRNOS} | {"never returns (deadlock)"}
    else:
        ret = trace.result.ret
        pool = {w for w in _ERRNOS[:3]} | {f"{ret + 0x1000:#x}", f"{ret - 0x1000:#x}"}
    why = (f"The recorded run ends with: {_say(trace, trace.events[-1])}. "
           f"{trace.description}" if trace.events else trace.description)
    call = _syscall_name(trace)
    return Question(f"Under {trace.kernel}, what does {call}() return in {trace.scenario}?",
                    _options(rng, answer, pool), answer, why, "returns", trace.scenario,
                    trace.kernel, None, "mmap", trace.title, HINTS["returns"],
                    leaks=(_errno_re(answer) if answer.startswith("-") else re.escape(answer),))


_RULES = {"unlock-not-held": "a double unlock (a lock released that is not held)",
          "deadlock": "a deadlock (a task waits for a lock it holds)",
          "recursive-lock": "a recursive lock (a lock taken twice)",
          "held-on-return": "a lock still held when mmap() returns",
          "lock-order": "a lock taken out of order"}
NO_VIOLATION = "nothing: every lock is taken and released in order"


def q_lockdep(trace, rng) -> Question | None:
    """What does the lock checker report, if anything?"""
    if trace.result.outcome in ("unsupported", "build-error"):
        return None
    v = trace.violations[0] if trace.violations else None
    answer = _RULES.get(v.kind, v.kind) if v else NO_VIOLATION
    pool = set(list(_RULES.values())[:4]) | {NO_VIOLATION}
    why = (f"At event {v.seq} the checker reports {v.kind} on {v.lock}: "
           f"{_say(trace, trace.events[v.seq])}." if v else
           "The run takes and releases every lock in order: the checker stays quiet.")
    return Question(f"In {_name(trace)}: what does the lock checker report?",
                    _options(rng, answer, pool), answer, f"{why} {trace.description}",
                    "lockdep", trace.scenario, trace.kernel, None, "lockdep", trace.title,
                    HINTS["lockdep"])


def q_which_waits(trace, rng) -> Question | None:
    """Two tasks: which one waits first, and for which lock?"""
    waits = [e for e in trace.events if e.kind == "wait"]
    if not waits or not getattr(trace, "tasks", ()):
        return None
    comm = {pid: name for pid, name, _ in trace.tasks}
    e = waits[0]
    lock = e.data.get("lock", "?")
    answer = f"{comm.get(e.task, e.task)} waits for {lock}"
    locks = sorted({ev.data["lock"] for ev in trace.events if ev.data.get("lock")})
    pool = {f"{c} waits for {lk}" for c in comm.values() for lk in locks}
    pool.add("nobody waits: the two never meet on a lock")
    why = f"At {_where(trace, e.seq)}. {trace.description}"
    return Question(f"In the race {trace.scenario} under {trace.kernel}: which task waits "
                    "first, and for which lock?", _options(rng, answer, pool), answer, why,
                    "which-waits", trace.scenario, trace.kernel, e.seq, lock, trace.title,
                    HINTS["which-waits"])


def q_locks_at_hook(trace, rng, hook="vm_ops->mapped") -> Question | None:
    hits = _hook_enters(trace, hook)
    if not hits:
        return None
    e = hits[0]
    held = tuple(e.snapshot.locks_held)
    answer = _locks(held)
    names = []
    for ev in trace.events:
        for name in ev.snapshot.locks_held:
            if name not in names:
                names.append(name)
    pool = {_locks(()), _locks(("mmap_lock",))}
    for name in names:                       # the answer with one lock added or taken away
        if name in held:
            pool.add(_locks(tuple(x for x in held if x != name)))
        else:
            pool.add(_locks(held + (name,)))
    return Question(f"Which locks are held when {hook} runs in {_name(trace)}?",
                    _options(rng, answer, pool), answer,
                    f"At {_where(trace, e.seq)}. The task holds {answer}. "
                    + " ".join(filter(None, (_why_lock(x) for x in held))) + " "
                    + trace.description,
                    "locks-at-hook", trace.scenario, trace.kernel, None, hook, trace.title,
                    HINTS["locks-at-hook"])


def q_variant_diff(trace, rng, other) -> Question | None:
    """`other` (the same scenario under another kernel) did X: what does `trace`'s do?"""
    if other is None or other.result.outcome in ("unsupported", "build-error"):
        return None
    if trace.result.outcome in ("unsupported", "build-error"):
        return None
    answer, given = outcome_words(trace), outcome_words(other)
    same = f"the same as under {other.kernel}"
    if answer == given:
        answer = same
    r = trace.result
    n = len(trace.final.vmas)
    rets = {f"returns -{r.errno}" if r.errno else "succeeds", "succeeds",
            f"returns -{other.result.errno}" if other.result.errno else "succeeds"}
    kinds = {v.kind for v in (*trace.violations, *other.violations)} or {"unlock-not-held"}
    checkers = {"the lock checker is quiet"} | {f"the lock checker reports {x}" for x in kinds}
    pool = {same}
    for ret in rets:
        for k in {n, len(other.final.vmas), 0, 1}:
            for checker in checkers:
                text = f"{ret}, {k} VMA{'s' if k != 1 else ''} left, {checker}"
                if text != given:
                    pool.add(text)
    from .trace.align import align
    rows = align(other, trace)
    first = next((r for r in rows if r.differs and r.b is not None), None)
    diff = (f" The runs part at {_where(trace, first.b)}." if first is not None else "")
    why = f"Under {trace.kernel}: {outcome_words(trace)}.{diff} {trace.description}"
    return Question(f"Under {other.kernel}, {other.scenario} {given}. What happens under "
                    f"{trace.kernel}?", _options(rng, answer, pool), answer, why,
                    "variant-diff", trace.scenario, trace.kernel, None, other.kernel,
                    trace.title, HINTS["variant-diff"],
                    quotes=((other.scenario, other.kernel),))


_WHOLE = {"vma-count": q_vma_count, "picture": q_picture, "hook-order": q_hook_order,
          "errno-step": q_errno_step, "returns": q_return, "lockdep": q_lockdep,
          "which-waits": q_which_waits, "locks-at-hook": q_locks_at_hook}


def make(kind, trace, rng, other=None) -> Question | None:
    """A question of `kind` (KINDS) about `trace`, or None if the trace cannot ask it
    (no hooks to order, no error to place...). variant-diff needs `other`."""
    if kind == "variant-diff":
        return q_variant_diff(trace, rng, other)
    if kind not in _WHOLE:
        from .model.errors import InputError
        raise InputError(f"unknown question kind {kind!r}; choose one of " + ", ".join(KINDS))
    return _WHOLE[kind](trace, rng)


# --- questions about one event (asked just before it) --------------------------------------------

def question_at(trace, seq, rng=None, standalone=False) -> Question:
    """A question about event `seq`, answerable from what the trace shows before it (the
    widget hides the narration, the call stack and the source while it is open).

    standalone: put the scenario into the prompt (for question sets read without a stepper
    next to them). No prompt quotes an event: the previous event often names the answer.
    """
    if not 0 <= seq < len(trace.events):
        from .model.errors import InputError
        raise InputError(f"event {seq} is outside the trace (0..{len(trace.events) - 1})")
    if rng is None:
        rng = random.Random(f"{trace.scenario}/{trace.kernel}/{seq}")
    e = trace.events[seq]
    before = f"at event {seq - 1}" if seq > 0 else "as the call starts"
    where = _where(trace, seq)

    def make_q(kind, prompt, answer, pool, subject="", why=""):
        choices = pool if isinstance(pool, tuple) else _options(rng, answer, pool)
        if standalone:
            prompt = f"In {_name(trace)}, {before}: {prompt[0].lower()}{prompt[1:]}"
        held = ", ".join(e.snapshot.locks_held) or "none"
        text = f"At {where}. Locks held after it: {held}." + (f" {_cap(why)}" if why else "")
        return Question(prompt, choices, answer, text, kind, trace.scenario, trace.kernel, seq,
                        subject, before, HINTS.get(kind, ""))

    if e.kind == "wait" and trace.tasks:        # a race: what becomes of the task that asks
        from .exercises_races import q_who_waits
        return q_who_waits(trace, rng, e)
    lock_names = {ev.data["lock"] for ev in trace.events if ev.data.get("lock")}
    lock_names |= {"mmap_lock"} | {f"i_mmap_rwsem({f.rsplit('#', 1)[0]})" for f in trace.files}
    if e.kind == "lock" and e.data.get("lock"):
        return make_q("next-lock", "Which new bar starts next on the lock timeline (which lock "
                      "is taken)?", e.data["lock"], set(lock_names), e.data["lock"],
                      _why_lock(e.data["lock"]))
    if e.kind == "unlock" and e.data.get("lock"):
        return make_q("next-unlock", "Which bar of the lock timeline ends next (which lock is "
                      "released)?", e.data["lock"], set(lock_names), e.data["lock"],
                      _why_lock(e.data["lock"]))
    if e.kind == "hook" and e.data.get("phase") == "enter":
        return make_q("next-hook", "Which driver hook runs next?", e.fn, set(HOOKS), e.fn,
                      WHY_HOOK.get(e.fn, ""))
    if e.kind in ("error", "warn", "violation"):
        word = {"error": "an error", "warn": "a kernel WARNING",
                "violation": "a lock-rule violation (lockdep)"}[e.kind]
        return make_q("next-problem", "Something goes wrong next. What is it?", word,
                      ("an error", "a kernel WARNING", "a lock-rule violation (lockdep)",
                       "nothing: the call carries on"), e.kind)
    if e.step:
        steps = sorted({ev.step for ev in trace.events if ev.step} | {"S3", "S6", "S7", "S10"})
        return make_q("next-step", "Which step of __mmap_region comes next?", e.step,
                      set(steps), e.step)
    fns = {ev.fn for ev in trace.events if ev.kind == "call"}
    return make_q("next-call", "Which function is called next?" if e.kind == "call" else
                  "Which function does the next event happen in?", e.fn, fns | {"do_munmap"},
                  e.fn)


def interesting_points(trace, limit=4) -> list:
    """Events worth predicting, in order: up to `limit` of (in a race) the first wait, the
    first hook, the first rmap lock, the first violation or error, ->mapped, the rmap
    unlock, the first step."""
    picks = []

    def first(pred):
        for e in trace.events:
            if pred(e) and e.seq not in picks and e.seq > 0:
                picks.append(e.seq)
                return

    if trace.tasks:                              # a race: first, who waits for whom
        first(lambda e: e.kind == "wait")
    first(lambda e: e.kind == "hook" and e.data.get("phase") == "enter")
    first(lambda e: e.kind == "lock" and str(e.data.get("lock", "")).startswith("i_mmap"))
    first(lambda e: e.kind in ("violation", "error"))
    first(lambda e: e.kind == "hook" and e.fn == "vm_ops->mapped")
    first(lambda e: e.kind == "unlock" and str(e.data.get("lock", "")).startswith("i_mmap"))
    first(lambda e: e.step == "S7")
    if not picks:
        first(lambda e: e.kind == "lock")
    return sorted(picks[:limit])


# --- sets of questions ----------------------------------------------------------------------------

def check_count(n):
    """InputError unless n is a whole number of questions (0 or more)."""
    from .model.errors import InputError
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise InputError("n must be a non-negative integer")


def generate(seed, n: int = 5, scenarios=None, kinds=None, kernels=None, pairs=None,
             exclude=()) -> list:
    """n questions drawn reproducibly (random.Random(seed)) from recorded traces.

    scenarios: names to draw from (the catalog and the races by default); kinds: question
    kinds (KINDS); kernels: the kernel versions to ask about; pairs: explicit (scenario,
    kernel) pairs instead of scenarios x kernels (a lesson's pool: what it has not shown),
    each with, optionally, the kinds it may be asked (scenario, kernel, (kinds...));
    exclude: (scenario, kernel) pairs never asked or quoted. A prompt is never repeated and
    no question quotes the outcome another one asks for.
    """
    from .model.world import KERNELS
    from .scenarios import all_names, get, get_race, race_names, record
    check_count(n)
    kinds = check_choices("question kind", KINDS if kinds is None else kinds, KINDS)
    kernels = check_choices("kernel", KERNELS if kernels is None else kernels, KERNELS)
    only = {}                         # (scenario, kernel) -> the kinds it may be asked
    if pairs is None:
        names = list(scenarios) if scenarios is not None else all_names()
        for name in names:
            (get_race if name in race_names() else get)(name)   # InputError if unknown
        pairs = [(s, k) for s in names for k in kernels]
    else:
        plain = []
        for p in pairs:               # (scenario, kernel) or (scenario, kernel, (kinds...))
            s, k = p[0], p[1]
            (get_race if s in race_names() else get)(s)
            check_choices("kernel", (k,), KERNELS)
            if len(p) > 2:
                only[(s, k)] = tuple(p[2])
            plain.append((s, k))
        pairs = plain
    excluded = {tuple(x) for x in exclude}
    pairs = [p for p in pairs if p not in excluded]
    rng = random.Random(seed)
    cache = {}

    def rec(s, k):
        if (s, k) not in cache:
            cache[(s, k)] = record(s, kernel=k)
        return cache[(s, k)]

    out, prompts, asked, quoted = [], set(), set(), set()
    per_kind = max(1, -(-n // len(kinds)))           # a set mixes its kinds
    used = {k: 0 for k in kinds}
    tries = 0
    while len(out) < n and pairs and tries < 60 * (n + 1):
        tries += 1
        s, k = rng.choice(pairs)
        kind = rng.choice(kinds)
        if kind not in only.get((s, k), kinds):
            continue
        if used[kind] >= per_kind and tries < 40 * (n + 1):
            continue
        t = rec(s, k)
        if t.result.outcome == "unsupported":
            continue                  # nothing ran: this kernel lacks what the scenario needs
        other = None
        if kind == "variant-diff":
            others = [o for o in KERNELS if o != k and (s, o) not in excluded
                      and (s, o) not in asked and rec(s, o).result.outcome != "unsupported"]
            differ = [o for o in others if outcome_words(rec(s, o)) != outcome_words(t)]
            if not others:
                continue
            other = rec(s, rng.choice(differ or others))
        q = make(kind, t, rng, other)
        if q is None or q.prompt in prompts:
            continue
        if (s, k) in quoted or any(qp in asked for qp in q.quotes):
            continue                  # one question would give the other's answer away
        prompts.add(q.prompt)
        used[kind] += 1
        asked.add((s, k))
        quoted.update(q.quotes)
        out.append(q)
    return out


@dataclass(frozen=True)
class Pool:
    """One lesson's exercises: the kinds its goals ask for and the (scenario, kernel) pairs
    it may ask about (those it has not already shown the answer of)."""

    kinds: tuple
    pairs: tuple
    n: int = 5
