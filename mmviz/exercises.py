"""Exercises: questions whose answers come from recorded traces, so they are right by construction.

    from mmviz.exercises import generate
    for q in generate(seed=7, n=5):
        print(q.prompt, q.choices)
        q.check(q.choices[0])          # True or False
        print(q.answer, q.explanation)

The same seed gives the same questions (and the same order of choices). Questions are of
two sorts: about a whole run ("what does mmap return", "does vm_ops->mapped run", "which
locks are held when vm_ops->mapped runs", "does the lock checker complain") and about one
event, asked just before it ("which lock is taken next", "which hook runs next", "is
vma#1 in the tree after this step"); `Predict` asks the second sort while stepping.
Standard library only.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

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
    explanation: str
    kind: str                     # return | hook-runs | locks-at-hook | violation | next-lock
                                  # | next-unlock | next-hook | vma-exists | next-call | next-step
                                  # | returns | syscall-returns | next-problem
    scenario: str = ""
    kernel: str = ""
    seq: int | None = None        # the event the question is about (hidden until answered)
    subject: str = ""             # the hook, lock or VMA asked about
    context: str = field(default="", compare=False)   # what the reader sees before answering

    def check(self, choice) -> bool:
        """True if `choice` (the text of a choice, or its index) is the answer."""
        if isinstance(choice, int) and not isinstance(choice, bool):
            if not 0 <= choice < len(self.choices):
                return False
            choice = self.choices[choice]
        return choice == self.answer


# --- helpers -------------------------------------------------------------------------------

def _result_text(result) -> str:
    if result.outcome == "ok":
        return f"{result.summary()} (the address of the new mapping)"
    return result.summary()


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


# --- questions about a whole run ----------------------------------------------------------------

# The outermost modelled function of a system call, and the call's name.
SYSCALL_OF = {"ksys_mmap_pgoff": "mmap", "do_mremap": "mremap", "do_mlock": "mlock",
              "sys_munlock": "munlock", "do_madvise": "madvise", "copy_process": "fork",
              "sys_brk": "brk", "do_mprotect_pkey": "mprotect"}


def _syscall_name(trace) -> str:
    """The system call whose result the trace records: the last one called at depth 0."""
    calls = [e.fn for e in trace.events if e.kind == "call" and e.depth == 0]
    return SYSCALL_OF.get(calls[-1], "mmap") if calls else "mmap"


def q_return(trace, rng) -> Question:
    answer = _result_text(trace.result)
    pool = ["-ENOMEM", "-EINVAL", "-EAGAIN", "never returns (deadlock)",
            "0x10000000 (the address of the new mapping)"]
    why = (f"The recorded run ends with: {_say(trace, trace.events[-1])}." if trace.events else "")
    call = _syscall_name(trace)
    return Question(f"Under {trace.kernel}, what does {call}() return in {trace.scenario}?",
                    _options(rng, answer, pool), answer,
                    f"{why} {trace.description}".strip(), "return", trace.scenario,
                    trace.kernel, None, "mmap", trace.title)


def _hook_enters(trace, hook):
    return [e for e in trace.events if e.kind == "hook" and e.fn == hook
            and e.data.get("phase") == "enter"]


def q_hook_runs(trace, rng, hook="vm_ops->mapped") -> Question:
    hits = _hook_enters(trace, hook)
    answer = YES if hits else NO
    if hits:
        why = f"It runs at {_where(trace, hits[0].seq)}."
    else:
        why = f"No event of the trace calls {hook}."
    why += " " + _cap(WHY_HOOK.get(hook, ""))
    return Question(f"Does {hook} run in {_name(trace)}?", (YES, NO), answer,
                    f"{why} {trace.description}", "hook-runs", trace.scenario, trace.kernel,
                    None, hook, trace.title)


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
                    "locks-at-hook", trace.scenario, trace.kernel, None, hook, trace.title)


def q_violation(trace, rng) -> Question:
    v = trace.violations[0] if trace.violations else None
    answer = YES if v else NO
    why = (f"At event {v.seq} the checker reports {v.kind} on {v.lock}: "
           f"{_say(trace, trace.events[v.seq])}." if v else
           "The run takes and releases every lock in order: the checker stays quiet.")
    return Question(f"Does the lock checker report a violation in {_name(trace)}?", (YES, NO),
                    answer, f"{why} {trace.description}", "violation", trace.scenario,
                    trace.kernel, None, "lockdep", trace.title)


# --- questions about one event (asked just before it) --------------------------------------------

def _attached(snapshot, vid) -> str:
    v = snapshot.vma(vid)
    return YES if (v is not None and not v.detached) else NO


def question_at(trace, seq, rng=None, standalone=False) -> Question:
    """A question about event `seq`, answerable from what the trace shows before it.

    standalone: put the scenario and the previous event into the prompt (for question sets
    read without a stepper next to them).
    """
    if not 0 <= seq < len(trace.events):
        from .model.errors import InputError
        raise InputError(f"event {seq} is outside the trace (0..{len(trace.events) - 1})")
    if rng is None:
        rng = random.Random(f"{trace.scenario}/{trace.kernel}/{seq}")
    e = trace.events[seq]
    before = (f"just after event {seq - 1} (“{_say(trace, trace.events[seq - 1])}”)" if seq > 0
              else "as the call starts")
    where = _where(trace, seq)

    def make(kind, prompt, answer, pool, subject="", why=""):
        choices = pool if isinstance(pool, tuple) else _options(rng, answer, pool)
        if standalone:
            # A return value travels up the call chain, so quoting the inner return
            # event would give the answer away.
            ctx = f"at event {seq}" if kind in ("syscall-returns", "returns") else before
            prompt = f"In {_name(trace)}, {ctx}: {prompt[0].lower()}{prompt[1:]}"
        held = ", ".join(e.snapshot.locks_held) or "none"
        text = f"At {where}. Locks held after it: {held}." + (f" {_cap(why)}" if why else "")
        return Question(prompt, choices, answer, text, kind, trace.scenario, trace.kernel, seq,
                        subject, before)

    if e.kind == "wait" and trace.tasks:        # a race: what becomes of the task that asks
        from .exercises_races import q_who_waits
        return q_who_waits(trace, rng, e)
    lock_names = {ev.data["lock"] for ev in trace.events if ev.data.get("lock")}
    lock_names |= {"mmap_lock"} | {f"i_mmap_rwsem({f.rsplit('#', 1)[0]})" for f in trace.files}
    if e.kind == "lock" and e.data.get("lock"):
        return make("next-lock", "Which lock is taken next?", e.data["lock"],
                    set(lock_names), e.data["lock"], _why_lock(e.data["lock"]))
    if e.kind == "unlock" and e.data.get("lock"):
        return make("next-unlock", "Which lock is released next?", e.data["lock"],
                    set(lock_names), e.data["lock"], _why_lock(e.data["lock"]))
    if e.kind == "hook" and e.data.get("phase") == "enter":
        return make("next-hook", "Which hook runs next?", e.fn, set(HOOKS), e.fn,
                    WHY_HOOK.get(e.fn, ""))
    if e.kind == "vma" and e.data.get("vma") is not None:
        vid = e.data["vma"]
        answer = _attached(e.snapshot, vid)
        # Ask only where the state is settled: the event after agrees (a snapshot taken in
        # the middle of a tree update would make a confusing answer).
        if seq + 1 >= len(trace.events) or _attached(trace.events[seq + 1].snapshot, vid) == answer:
            return make("vma-exists", f"After the next step, is vma#{vid} in the VMA tree "
                        "(attached)?", answer, (YES, NO), f"vma#{vid}",
                        "a VMA is attached once __mmap_new_vma (or a merge) stores it in the "
                        "tree, and detached when munmap gathers it into the side tree.")
    if e.kind in ("error", "warn", "violation"):
        word = {"error": "an error", "warn": "a kernel WARNING",
                "violation": "a lock-rule violation (lockdep)"}[e.kind]
        return make("next-problem", "Something goes wrong next. What is it?", word,
                    ("an error", "a kernel WARNING", "a lock-rule violation (lockdep)",
                     "nothing: the call carries on"), e.kind)
    if e.kind == "return" and e.fn == "ksys_mmap_pgoff":
        pool = {"-ENOMEM", "-EINVAL", "-EAGAIN", "-EPERM", "0x10000000"}
        return make("syscall-returns", "What does mmap() return to user space?",
                    str(e.data.get("ret")), pool, "mmap", trace.description)
    if e.kind == "return" and e.data.get("ret") is not None:
        pool = {"0", "-ENOMEM", "-EINVAL", "None", "0x10000000"}
        return make("returns", f"What does {e.fn}() return?", str(e.data["ret"]), pool, e.fn)
    if e.step:
        steps = sorted({ev.step for ev in trace.events if ev.step} | {"S3", "S6", "S7", "S10"})
        return make("next-step", "Which step of __mmap_region comes next?", e.step,
                    set(steps), e.step)
    fns = {ev.fn for ev in trace.events if ev.kind == "call"}
    return make("next-call", "Which function is called next?" if e.kind == "call" else
                "Which function emits the next event?", e.fn, fns | {"do_munmap"}, e.fn)


def interesting_points(trace, limit=4) -> list:
    """Events worth predicting, in order: up to `limit` of (in a race) the first wait, the
    first hook, the first rmap lock,
    the first VMA change, the first violation or error, ->mapped, the rmap unlock; then the
    return of the system call to user space."""
    picks = []

    def first(pred):
        for e in trace.events:
            if pred(e) and e.seq not in picks:
                picks.append(e.seq)
                return

    if trace.tasks:                              # a race: first, who waits for whom
        first(lambda e: e.kind == "wait")
    first(lambda e: e.kind == "hook" and e.data.get("phase") == "enter")
    first(lambda e: e.kind == "lock" and str(e.data.get("lock", "")).startswith("i_mmap"))
    first(lambda e: e.kind == "vma" and e.data.get("vma") is not None)
    first(lambda e: e.kind in ("violation", "error"))
    first(lambda e: e.kind == "hook" and e.fn == "vm_ops->mapped")
    first(lambda e: e.kind == "unlock" and str(e.data.get("lock", "")).startswith("i_mmap"))
    if not picks:
        first(lambda e: e.kind == "lock")
    picks = picks[:limit]
    first(lambda e: e.kind == "return" and e.fn == "ksys_mmap_pgoff")
    return sorted(picks)


# --- sets of questions ----------------------------------------------------------------------------

def trace_questions(trace, rng) -> list:
    """Every question this module can ask about one trace, in a fixed order."""
    qs = [q_return(trace, rng), q_violation(trace, rng)]
    if any(e.kind == "hook" for e in trace.events):
        qs.append(q_hook_runs(trace, rng, "vm_ops->mapped"))
        q = q_locks_at_hook(trace, rng, "vm_ops->mapped")
        if q is not None:
            qs.append(q)
        q = q_locks_at_hook(trace, rng, "f_op->mmap_prepare")
        if q is not None:
            qs.append(q)
    for seq in interesting_points(trace):
        qs.append(question_at(trace, seq, rng, standalone=True))
    return qs


def generate(seed, n: int = 5, scenarios=None) -> list:
    """n questions drawn reproducibly (random.Random(seed)) from recorded catalog traces."""
    from .model.world import KERNELS
    from .scenarios import get, names, record
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        from .model.errors import InputError
        raise InputError("n must be a non-negative integer")
    pool_names = list(scenarios) if scenarios is not None else names()
    for name in pool_names:
        get(name)                                     # InputError for an unknown name
    rng = random.Random(seed)
    out, seen = [], set()
    cache = {}
    attempts = 0
    while len(out) < n and attempts < 50 * (n + 1):
        attempts += 1
        name = rng.choice(pool_names)
        kernel = rng.choice(KERNELS)
        key = (name, kernel)
        if key not in cache:
            cache[key] = record(name, kernel=kernel)
        if cache[key].result.outcome == "unsupported":
            continue                  # nothing ran: this kernel lacks what the scenario needs
        qs = trace_questions(cache[key], rng)
        q = qs[rng.randrange(len(qs))]
        if q.prompt in seen:
            continue
        seen.add(q.prompt)
        out.append(q)
    return out
