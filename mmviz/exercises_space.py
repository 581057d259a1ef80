"""Questions about the rest of the address space (lesson 11): mremap, fork and the anonymous
rmap, madvise and mlock. Each seed builds new small programs and runs them in the model, so
every answer is the model's (which the differential tests hold to the running kernel).

    from mmviz.exercises_space import space_questions
    for q in space_questions(seed=3, n=5):
        print(q.prompt, q.choices, q.answer)

Six sorts, each asking for the model in the learner's head rather than a value on screen:
whether a moved VMA merges at its destination (and why not), whether a new mapping next to a
forked VMA merges in the child or the parent, which processes still map a page an rmap walk
starts from, how many VMAs flag changes leave, what a child reads where its parent advised
DONTFORK / WIPEONFORK or locked memory, and what a call returns. Standard library only.
"""

from __future__ import annotations

import random

from .exercises import Question, _options, check_count
from .model.errors import check_choices
from .model.uapi import MADV_DONTDUMP, MADV_FLAG_NAMES, MADV_RANDOM, PAGE_SIZE as P
from .scenarios.base import ANON, RW, A
KINDS = ("mremap-merge", "fork-merge", "rmap-walk", "split-count", "fork-inherit",
         "space-errno")
HINTS = {
    "mremap-merge": "A VMA that has pages keeps its vm_pgoff when it moves; one that never "
                    "had a page takes the pgoff of its new address. Merging needs contiguous "
                    "pgoffs.",
    "fork-merge": "Count the links of each VMA's anon_vma chain: a child's copy of a VMA that "
                  "had pages is linked to two anon_vmas.",
    "rmap-walk": "The walk visits every VMA linked to the page's anon_vma; a process that "
                 "wrote to its copy after the fork maps a page of its own.",
    "split-count": "Each call sets a flag on part of a VMA: a part that differs from its "
                   "neighbours becomes a VMA of its own; identical neighbours merge.",
    "fork-inherit": "DONTFORK leaves a hole in the child, WIPEONFORK a fresh zeroed range; "
                    "mlock is never inherited.",
    "space-errno": "Check the arguments first (alignment, flag combinations), then whether "
                   "the range is mapped and whether there is room.",
}
_ADVICE = ("MADV_DONTDUMP", "MADV_DONTFORK", "MADV_RANDOM")     # flag advice the lesson shows


def _world():
    from .model.world import World
    return World()


def _anon(world, addr, pages):
    return world.mmap(addr, pages * P, RW, ANON)


def _over(proc, lo, hi) -> list:
    return sorted(proc.vmas(lo, hi), key=lambda v: v.vm_start)


def _strip(vmas) -> str:
    return ", ".join(f"[{(v.vm_start - A) // P},{(v.vm_end - A) // P}) pgoff {v.vm_pgoff:#x}"
                     for v in vmas) or "nothing"


def _pages(i, j) -> str:
    """Pages i..j-1 as words."""
    return f"page {i}" if j == i + 1 else f"pages {i}-{j - 1}"


def _ret(r) -> str:
    from .model.errno import Errno
    if r < 0:
        return f"-{Errno(-r).name}"
    return "0" if r == 0 else f"{r:#x} (page {(r - A) // P})"


# --- the sorts -----------------------------------------------------------------------------------

def q_mremap_merge(rng) -> Question:
    """A VMA moved next to another: does it merge there, and if not why not?"""
    from .model.uapi import MREMAP_FIXED, MREMAP_MAYMOVE
    k, m = rng.randint(2, 4), rng.randint(2, 4)
    d = k + rng.randint(4, 10)                       # the neighbour's first page
    written = rng.random() < 0.5
    n_written = (not written) and rng.random() < 0.5
    after = rng.random() < 0.5                       # moved right after (or before) it
    w = _world()
    _anon(w, A, k)
    if written:
        w.touch(A)
    _anon(w, A + d * P, m)
    if n_written:
        w.touch(A + d * P)
    dest = A + ((d + m) if after else (d - k)) * P
    ret = w.mremap(A, k * P, k * P, MREMAP_MAYMOVE | MREMAP_FIXED, dest)
    lo, hi = min(dest, A + d * P), max(dest + k * P, A + (d + m) * P)
    vmas = _over(w, lo, hi)
    merged = "it merges: one VMA covers " + f"pages {(lo - A) // P}-{(hi - A) // P - 1}"
    kept = "it stays a VMA of its own: it kept its old vm_pgoff"
    anon = "it stays a VMA of its own: the two have different anon_vmas"
    fails = "the move fails with -ENOMEM"
    if ret < 0:
        answer = fails
    elif len(vmas) == 1:
        answer = merged
    else:
        moved = next(v for v in vmas if v.vm_start == dest)
        answer = kept if moved.vm_pgoff != dest // P else anon
    prompt = (f"A {k}-page anonymous VMA at page 0 {'has been written' if written else 'was never written'}; "
              f"a {m}-page one at page {d} {'has been written' if n_written else 'was never written'}. "
              f"mremap moves the first (same size, MREMAP_MAYMOVE|MREMAP_FIXED) to page "
              f"{(dest - A) // P}, right {'after' if after else 'before'} the second. "
              "What happens at the destination?")
    why = (f"The moved VMA {'had pages, so it keeps vm_pgoff ' + hex(A // P) if written else 'never had a page, so it takes the pgoff of its new address'}"
           f"; afterwards: {_strip(vmas)}. A new-range merge needs the pgoffs to continue "
           "each other and compatible anon_vmas (copy_vma tries vma_merge_copied_range).")
    return Question(prompt, _options(rng, answer, {merged, kept, anon, fails}), answer, why,
                    "mremap-merge", "", "mainline", None, "vm_pgoff", "", HINTS["mremap-merge"])


def q_fork_merge(rng) -> Question:
    """After fork, the child or the parent maps right after the copied VMA: does it merge?"""
    k, m = rng.randint(2, 5), rng.randint(1, 4)
    written = rng.random() < 0.65
    who = rng.choice(("child", "parent"))
    w = _world()
    _anon(w, A, k)
    if written:
        w.touch(A)
    child = w.fork()
    proc = child if who == "child" else w
    _anon(proc, A + k * P, m)
    vmas = _over(proc, A, A + (k + m) * P)
    n = len(vmas)
    first = vmas[0]
    chain = len(first.anon_vma_chain)
    one = "1: the new pages merged into the VMA at page 0"
    two = "2: the new pages got a VMA of their own"
    three = "3: the copied VMA was split as well"
    none = "0: the copy was unmapped in the fork"
    answer = {1: one, 2: two}.get(n, three)
    prompt = (f"A process maps {k} anonymous pages at page 0, "
              f"{'writes to page 0' if written else 'never writes to them'}, and forks. "
              f"Then the {who} maps {m} more anonymous page{'s' if m != 1 else ''} right "
              f"after them (page {k}). How many VMAs does the {who} have over pages "
              f"0-{k + m - 1}?")
    why = (f"In the {who} the VMA at page 0 has an anon_vma chain of {chain} link"
           f"{'s' if chain != 1 else ''}"
           + (" and no anon_vma: nothing stops the merge" if first.anon_vma is None and n == 1
              else "") + ". "
           + ("A fork child's VMA (a chain of more than one) may not lend its anon_vma to a new "
              "range, so the new range gets its own VMA. " if n == 2 and chain > 1 else "")
           + ("A VMA with a single link (the parent's) may lend its anon_vma to the new range, "
              "so they merge. " if n == 1 and chain == 1 else "")
           + f"Afterwards: {_strip(vmas)}.")
    return Question(prompt, _options(rng, answer, {one, two, three, none}), answer, why,
                    "fork-merge", "", "mainline", None, "anon_vma_chain", "",
                    HINTS["fork-merge"])


def q_rmap_walk(rng) -> Question | None:
    """A page shared by fork, some copies written: which processes does the walk find mapping it?"""
    pages = rng.randint(4, 8)
    i = rng.randrange(pages)
    w = _world()
    _anon(w, A, pages)
    w.touch(A + i * P, 1)
    child = w.fork()
    grand = child.fork() if rng.random() < 0.6 else None
    procs = [(w, 1)] + [(child, 2)] + ([(grand, 3)] if grand is not None else [])
    steps = []
    for proc, name in procs[1:]:
        if rng.random() < 0.5:
            proc.touch(A + i * P, name + 1)
            steps.append(f"process {name} writes to it")
    if not steps:
        steps.append("nobody writes to it again")
    walk = w.rmap_walk(A + i * P)
    mapped = sorted({v.pid for v in walk.visits if v.mapped})

    def words(pids):
        if len(pids) == 1:
            return f"process {pids[0]} only"
        return "processes " + ", ".join(map(str, pids[:-1])) + f" and {pids[-1]}"
    answer = words(mapped)
    every = [p for _, p in procs]
    pool = {words([1]), words(every), words(every[:2])}
    if len(every) == 3:
        pool |= {words([1, 3]), words([2, 3])}
    pool.discard(answer)
    if len(pool) < 2:
        pool.add(words([2]))
    prompt = (f"Process 1 writes to page {i} of a {pages}-page anonymous VMA and forks "
              f"process 2" + (", which forks process 3" if grand is not None else "")
              + f". Then {', then '.join(steps)}. An rmap walk starts from process 1's page "
              f"{i}: which processes map that very page?")
    why = ("rmap_walk_anon visits every VMA linked to the page's anon_vma; a process that "
           "wrote after the fork copied the page (COW) and maps a page of its own. "
           + "The walk: " + "; ".join(
               f"process {v.pid} vma#{v.vma} {'maps it' if v.mapped else 'does not map it'}"
               for v in walk.visits) + ".")
    return Question(prompt, _options(rng, answer, pool), answer, why, "rmap-walk", "",
                    "mainline", None, "rmap_walk_anon", "", HINTS["rmap-walk"])


def q_split_count(rng) -> Question:
    """madvise/mlock on parts of a VMA: how many VMAs afterwards?"""
    n = rng.randint(6, 10)
    w = _world()
    _anon(w, A, n)
    calls = []
    for _ in range(rng.randint(1, 2)):
        i = rng.randrange(n)
        j = rng.randint(i + 1, n)
        if rng.random() < 0.3:
            w.mlock(A + i * P, (j - i) * P)
            calls.append(f"mlock({_pages(i, j)})")
        else:
            name = rng.choice(_ADVICE)
            w.madvise(A + i * P, (j - i) * P, MADV_FLAG_NAMES[name])
            calls.append(f"madvise({_pages(i, j)}, {name})")
    vmas = _over(w, A, A + n * P)
    answer = str(len(vmas))
    pool = {str(x) for x in range(1, 6)}
    prompt = (f"{'An' if n in (8, 11, 18) else 'A'} {n}-page anonymous VMA at page 0, then " + ", then ".join(calls)
              + f". How many VMAs cover pages 0-{n - 1}?")
    from .model.vm_flags import VmFlags
    shown = [f"[{(v.vm_start - A) // P},{(v.vm_end - A) // P})"
             + "".join(f" {name}" for name in ("VM_LOCKED", "VM_DONTCOPY", "VM_DONTDUMP",
                                                "VM_RAND_READ")
                       if v.vm_flags & getattr(VmFlags, name)) for v in vmas]
    why = ("Each call gives a range a flag through vma_modify_flags: the range splits off "
           "where its flags differ from the rest and merges with neighbours whose flags are "
           "the same. Afterwards: " + "; ".join(shown) + ".")
    return Question(prompt, _options(rng, answer, pool), answer, why, "split-count", "",
                    "mainline", None, "vma_modify_flags", "", HINTS["split-count"])


def q_fork_inherit(rng) -> Question:
    """What does the child read where its parent advised DONTFORK/WIPEONFORK or locked?"""
    n = rng.randint(4, 8)
    value = rng.randint(2, 250)
    w = _world()
    _anon(w, A, n)
    for p in range(n):
        w.touch(A + p * P, value)
    i = rng.randrange(n - 1)
    j = rng.randint(i + 1, n)
    what = rng.choice(("MADV_DONTFORK", "MADV_WIPEONFORK", "mlock"))
    if what == "mlock":
        w.mlock(A + i * P, (j - i) * P)
    else:
        w.madvise(A + i * P, (j - i) * P, MADV_FLAG_NAMES[what])
    child = w.fork()
    p = rng.choice([rng.randrange(i, j), rng.randrange(n)])
    got = child.load(A + p * P)
    hole = "nothing: the address is a hole in the child (SIGSEGV)"
    zero = "0: a fresh zero-filled page"
    same = f"{value}: the parent's byte, shared copy-on-write"
    answer = hole if got < 0 else (zero if got == 0 else same)
    inside = i <= p < j
    prompt = (f"A process fills all {n} pages of an anonymous VMA with the byte {value}, "
              f"applies {what} to {_pages(i, j)} and forks. What does the child read at "
              f"page {p}?")
    rule = {"MADV_DONTFORK": "MADV_DONTFORK sets VM_DONTCOPY: dup_mmap skips the range, a "
                             "hole in the child",
            "MADV_WIPEONFORK": "MADV_WIPEONFORK sets VM_WIPEONFORK: the child gets the range "
                               "empty, so it reads zeros",
            "mlock": "VM_LOCKED is cleared in the child's copy (locks are not inherited), "
                     "the pages are shared as usual"}[what]
    why = (f"{rule}. Page {p} is {'inside' if inside else 'outside'} {_pages(i, j)}"
           + ("" if inside else ", so the child shares the parent's page") + ".")
    return Question(prompt, _options(rng, answer, {hole, zero, same}), answer, why,
                    "fork-inherit", "", "mainline", None, "dup_mmap", "",
                    HINTS["fork-inherit"])


def _errno_cases():
    """(description, run(world) -> ret, why) for the errno sort."""
    from .model.uapi import MREMAP_FIXED, MREMAP_MAYMOVE, PROT_NONE

    def mlock_none(w, r):
        w.mmap(A, r * P, PROT_NONE, ANON)
        return w.mlock(A, r * P)

    def grow_blocked(w, r):
        _anon(w, A, r)
        _anon(w, A + r * P, 1)
        return w.mremap(A, r * P, (r + 2) * P, 0)

    def grow_room(w, r):
        _anon(w, A, r)
        _anon(w, A + (r + 4) * P, 1)
        return w.mremap(A, r * P, (r + 2) * P, 0)

    def madvise_hole(w, r):
        _anon(w, A, r)
        _anon(w, A + (r + 1) * P, 2)
        return w.madvise(A, (r + 3) * P, MADV_DONTDUMP)

    def madvise_unaligned(w, r):
        _anon(w, A, r)
        return w.madvise(A + 0x800, P, MADV_RANDOM)

    def fixed_no_maymove(w, r):
        _anon(w, A, r)
        return w.mremap(A, r * P, r * P, MREMAP_FIXED, A + 40 * P)

    def mlock_part(w, r):
        _anon(w, A, r + 2)
        return w.mlock(A + P, r * P)

    def move_maymove(w, r):
        _anon(w, A, r)
        _anon(w, A + r * P, 1)
        return w.mremap(A, r * P, (r + 2) * P, MREMAP_MAYMOVE)

    return [
        ("maps {r} pages PROT_NONE at page 0 and calls mlock on all of them", mlock_none,
         "mlock populates the pages after locking the VMA; PROT_NONE pages cannot be faulted "
         "in, so mlock reports -ENOMEM even though the VMA stays VM_LOCKED."),
        ("maps {r} pages at page 0 and one right after them, then mremap grows the first to "
         "{r2} pages without MREMAP_MAYMOVE", grow_blocked,
         "Growing in place needs the pages after the VMA free; without MREMAP_MAYMOVE it "
         "may not move, so mremap returns -ENOMEM."),
        ("maps {r} pages at page 0 and one at page {r4}, then mremap grows the first to "
         "{r2} pages without MREMAP_MAYMOVE", grow_room,
         "The pages after the VMA are free, so it grows in place and mremap returns its "
         "unchanged address."),
        ("maps {r} pages at page 0 and two at page {r1} (a one-page hole between), then "
         "madvise(MADV_DONTDUMP) covers pages 0-{r3m}", madvise_hole,
         "madvise applies the advice to every mapped part of the range and then reports the "
         "hole with -ENOMEM."),
        ("maps {r} pages at page 0 and calls madvise(MADV_RANDOM) at page 0 + 0x800",
         madvise_unaligned, "The start of the range must be page-aligned: -EINVAL before "
         "anything is looked at."),
        ("maps {r} pages at page 0 and calls mremap with MREMAP_FIXED but without "
         "MREMAP_MAYMOVE", fixed_no_maymove,
         "MREMAP_FIXED is only allowed together with MREMAP_MAYMOVE: -EINVAL."),
        ("maps {r2} read-write pages at page 0 and calls mlock on pages 1-{r}", mlock_part,
         "The range is mapped and may be read: mlock splits it off as a VM_LOCKED VMA (the "
         "VMA becomes three), faults its pages in and returns 0."),
        ("maps {r} pages at page 0 and one right after them, then mremap grows the first to "
         "{r2} pages with MREMAP_MAYMOVE", move_maymove,
         "There is no room in place, but MREMAP_MAYMOVE lets it move: mremap returns the new "
         "address (the top-down search finds a free range)."),
    ]


def q_space_errno(rng) -> Question:
    """What does the call return?"""
    desc, run, why = rng.choice(_errno_cases())
    r = rng.randint(2, 5)
    w = _world()
    ret = run(w, r)
    # success is an address for mremap, 0 for madvise and mlock: offer the one that fits
    ok = "the address of the VMA (it succeeds)" if "mremap" in desc else "0 (it succeeds)"
    answer = _ret(ret) if ret < 0 else ok
    if ret > 0:
        why += f" Here it returned {_ret(ret)}."
    pool = {"-ENOMEM", "-EINVAL", "-EAGAIN", "-EFAULT", ok}
    prompt = ("A process " + desc.format(r=r, r1=r + 1, r2=r + 2, r4=r + 4, r3m=r + 2)
              + ". What does the last call return?")
    return Question(prompt, _options(rng, answer, pool), answer, why, "space-errno", "",
                    "mainline", None, "errno", "", HINTS["space-errno"])


SORTS = {"mremap-merge": q_mremap_merge, "fork-merge": q_fork_merge,
         "rmap-walk": q_rmap_walk, "split-count": q_split_count,
         "fork-inherit": q_fork_inherit, "space-errno": q_space_errno}


def space_questions(seed, n: int = 5, kinds=None) -> list:
    """n questions (of `kinds`, default every sort, each used before any repeats), drawn
    reproducibly from random.Random(seed); no prompt repeats."""
    check_count(n)
    kinds = check_choices("question kind", KINDS if kinds is None else kinds, KINDS)
    rng = random.Random(seed)
    order = list(kinds)
    rng.shuffle(order)
    out, seen = [], set()
    for _ in range(50 * (n + 1)):
        if len(out) >= n or not order:
            break
        q = SORTS[order[len(out) % len(order)]](rng)
        if q is None or q.prompt in seen or len(set(q.choices)) < 2:
            continue
        seen.add(q.prompt)
        out.append(q)
    return out
