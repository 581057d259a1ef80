"""Every sentence that explains a trace event, in one place.

The model emits structured events — a kind, the function, a `what` tag and plain fields —
and never prose. This module turns an event into the sentence a reader sees, for the kernel
variant the trace was recorded under, so each sentence can be read, reviewed against the
kernel and corrected here. Standard library only: text, HTML and pictures all use it.

    sentence(event, "v4")         # one event
    violation_message(trace, v)   # the sentence of a lock-rule violation

A sentence is a format string over the event's fields (plus `fn`, `vma_label`, `errno`
names...), a function of the event, or a dict {variant: sentence, "*": default}.
"""

from __future__ import annotations

from ..model.errno import Errno


def _vma(vid) -> str:
    return f"vma#{vid}"


def _errno(value) -> str:
    return Errno.name_of(value) if isinstance(value, int) else str(value)


def _span(start, end) -> str:
    return f"[{start:#x},{end:#x})"


# --- spec §2.3 steps of __mmap_region ---------------------------------------------------------

STEPS = {
    "S0": lambda d: (f"set up the mmap_state for {_span(d['start'], d['end'])}"
                     + (" and an empty descriptor for f_op->mmap_prepare"
                        if d.get("prepare") else "")),
    "S2": "__mmap_setup: deal with anything already mapped there, charge memory",
    "S3": "call the driver's mmap_prepare: no VMA exists yet, only the descriptor",
    "S4": lambda d: (f"setup or prepare failed ({_errno(d['errno'])}): go straight to "
                     "abort_munmap, skipping unacct_error"),
    "S6": lambda d: _s6(d.get("hook")),
    "S7": "no merge: allocate and insert a new VMA",
    "S8": lambda d: f"copy the driver's vm_ops and private_data onto {_vma(d['vma'])}",
    "S9": "__mmap_complete: free replaced VMAs, account, set the page protection",
    "S10": {"baseline": "complete the action on the new VMA, then success_hook (the first "
                        "version has no vm_ops->mapped); a held rmap lock is released only "
                        "after that",
            "v3": "complete the action (finish drops a held rmap lock first, then runs "
                  "success_hook), then call_mapped_hook() runs vm_ops->mapped",
            "v4": "complete the action, then vm_ops->mapped and success_hook, then release a "
                  "held rmap lock",
            "mainline": "complete the action, then vm_ops->mapped, then release a held rmap "
                        "lock (no hooks: error_override replaces an error)",
            "*": "complete the action on the new VMA and call vm_ops->mapped"},
    "S11": lambda d: f"the mapping is established at {d['addr']:#x}",
    "E1": "unacct_error: give back the commit charge, then abort",
    "E2": lambda d: ("abort_munmap: drop the reference of the file mmap_prepare swapped in, "
                     "then restore or hole the old range" if d.get("put_swapped") else
                     "abort_munmap: restore or hole the old range"),
}

# --- lock-rule violations (the lock checker's reports, lockdep's wording) ----------------------

def _chain(d) -> str:
    steps = [f"{comm}[{pid}] waits for {lock}" for pid, comm, lock in d.get("chain", [])]
    return "; ".join(steps)


VIOLATIONS = {
    "deadlock": lambda e, d: (
        f"deadlock between tasks: {_chain(d)}, which is held by the first of them: no task "
        "can run again" if d.get("cross") else
        _self_deadlock(e, d)),
    "lock-order": lambda e, d: (
        f"possible circular locking dependency detected: {e.fn}() takes {d['taking']} while "
        f"holding {d['held']}; the kernel's lock order (mm/rmap.c) takes them the other way "
        "round, so two tasks doing both can deadlock"),
    "half-built": lambda e, d: (
        f"an rmap walker reached {_vma(d['vma'])} before its mmap finished setting it up: the "
        "action and hooks have not all run, so what the walker reads there (vm_private_data, "
        "the page tables) is not there yet"),
}


def _self_deadlock(e, d) -> str:
    if d.get("held") == "another task":
        return (f"{e.fn}() waits for {d['lock']}, held by another task, but no other task runs "
                "in this world: it waits forever")
    if d.get("mode") == "write":
        return (f"possible recursive locking detected: {e.fn}() tries to take {d['lock']} for "
                f"write but this task already holds it for {d.get('held', 'write')}; the task "
                "sleeps forever")
    return (f"possible recursive locking detected: {e.fn}() tries to take {d['lock']} for read "
            "while this task holds it for write; the task sleeps forever")


VIOLATIONS.update({
    "unlock-not-held": lambda e, d: (
        f"bad unlock balance detected: {e.fn}() releases {d['lock']}, which this task does "
        "not hold (rwsem count underflow)" if d.get("mode") != "read" else
        f"bad unlock balance detected: {e.fn}() releases {d['lock']} for read, which this "
        "task does not hold"),
    "recursive-lock": lambda e, d: (
        f"possible recursive locking detected: {e.fn}() takes {d['lock']} for read again; a "
        "writer waiting in between would deadlock this task"),
    "assert": lambda e, d: (f"{e.fn}(): mmap_assert_write_locked failed: mmap_lock is not "
                            "held for write"),
    "held-on-return": lambda e, d: (f"lock held when returning to user space: {d['lock']} "
                                    f"(taken during {d.get('syscall', '?')})"),
})


def _gathered(e, d):
    labels = ", ".join(_vma(v) for v in d["vmas"])
    return (f"detached {labels} into the side tree; they can still be reattached until their "
            "page tables are zapped")


def _fill(e, d):
    if d.get("op") == "remap":
        return f"map PFNs {d['start_pfn']:#x}.. at {d['start']:#x}"
    if d.get("op") == "io_remap":
        return f"map I/O PFNs {d['start_pfn']:#x}.. at {d['start']:#x} (io_remap_pfn_range_complete)"
    return f"insert {d['nr_pages']} kernel pages"


_CAUSES = {"action": "the action failed", "mapped": "vm_ops->mapped failed",
           "success_hook": "success_hook failed"}


def _unmap_new(e, d) -> str:
    why = _CAUSES.get(d.get("cause"), "a step failed")
    vma = _vma(d["vma"])
    snap = e.snapshot
    view = snap.vmas.get(d["vma"]) if snap is not None else None
    if view is not None and (view.detached or view.inflight):
        return (f"{why}: do_munmap() the range of {vma}, which is not in the VMA tree yet "
                "(its caller is still setting it up): whatever the tree holds there is "
                "unmapped instead")
    return f"{why}: unmap the new {vma} with do_munmap()"


def _space(snapshot) -> str:
    """The VMAs of a snapshot in a few words: listed when few, summarised when many."""
    vmas = list(snapshot.vmas) if snapshot is not None else []
    if not vmas:
        return "no VMAs"
    n = len(vmas)
    if n > 12:
        return (f"{n:,} VMAs from {vmas[0].start:#x} to {vmas[-1].end:#x} (too many to list; "
                "the pictures bin them)")
    return f"{n} VMA{'s' if n != 1 else ''}: " + ", ".join(
        f"{v.label} {_span(v.start, v.end)}" for v in vmas)


def _returns(d) -> str:
    ret = d.get("ret")
    if ret is None:
        return "no return value"
    if isinstance(ret, int) and -4095 <= ret < 0:
        return f"the call returns {_errno(ret)}"
    return f"the call returns {ret:#x}" if isinstance(ret, int) else f"the call returns {ret}"


SENTENCES = {
    # instrumentation
    "call": "{fn}() called",
    "return": "{fn}() returns {ret}",
    "hook_enter": "calling {fn}",
    "hook_exit": "{fn} returned {ret}",
    # locks
    "lock": "{fn} takes {lock} for {mode}",
    "unlock": "{fn} releases {lock}",
    "vma_write_lock": lambda e, d: (f"{_vma(d['vma'])} is write-locked: page faults on it must "
                                    "wait until mmap_lock is dropped"),
    "vma_unlock_all": lambda e, d: (f"dropping mmap_lock also drops the write lock of "
                                    f"{_vma(d['vma'])}"),
    "task_hung": "the task is stuck forever: the system call never returns",
    "double_free": lambda e, d: (f"BUG: KASAN: use-after-free: {_vma(d['vma'])} was already "
                                 "freed and is being freed again; map_count is now corrupted"),
    # do_mmap, accounting
    "map_count_limit": "map_count is above vm.max_map_count",
    "noreplace_exists": "MAP_FIXED_NOREPLACE: the range is already mapped",
    "may_expand_vm_fail": "may_expand_vm: the address-space limit would be exceeded",
    "charge_refused": "the commit charge of {pages} pages is refused (injected failure)",
    # __mmap_region and its helpers
    "step": {k: (lambda k: lambda e, d: _step_sentence(d, k))(k)
             for k in ("baseline", "v3", "v4", "mainline", "*")},
    "prepare_fail": lambda e, d: f"f_op->mmap_prepare failed with {_errno(d['errno'])}",
    "file_swapped": "the driver swapped the file to {file}; it already holds the reference",
    "legacy_mmap_fail": ("f_op->mmap failed: dummy vm_ops installed, the file reference "
                         "dropped and the driver's partial PTEs zapped (unmap_region)"),
    "legacy_moved_start": "WARNING: the driver moved vm_start",
    "legacy_granted_maywrite": "WARNING: the driver granted VM_MAYWRITE that the checks had "
                               "refused",
    "legacy_changed_flags": ("f_op->mmap changed the flags after the merge decision: the new "
                             "VMA can no longer merge with its neighbours"),
    "legacy_hook_flags": ("the legacy hook changes vm_flags after the merge decision was taken "
                          "on the old ones"),
    "prealloc_fail_new": "vma_iter_prealloc fails (injected): the VMA is freed",
    "alloc_fail": "vm_area_alloc fails: the VMA slab is out of memory (injected)",
    "vma_stored": lambda e, d: (f"{_vma(d['vma'])} {_span(d['start'], d['end'])} is stored in "
                                "the VMA tree, write-locked so no page fault can use it yet"),
    "merged_no_action": lambda e, d: (f"merged into {_vma(d['vma'])}: no action and no "
                                      "vm_ops->mapped will run for this mmap() call"),
    "rmap_linked": lambda e, d: (f"{_vma(d['vma'])} enters the rmap of {d['file']}: truncation "
                                 "and reclaim can now find it"),
    "hide_held": lambda e, d: (f"hide_from_rmap_until_complete: i_mmap_rwsem of {d['file']} "
                               f"stays held, so no rmap walker can see {_vma(d['vma'])} until "
                               "the action completes"),
    # actions (mm/util.c, mm/memory.c)
    "remap_outside": "the remap range lies outside the mapping",
    "remap_cow_partial": "a private writable remap must cover the whole mapping",
    "remap_flags_set": ("VM_IO|VM_PFNMAP|VM_DONTEXPAND|VM_DONTDUMP set: the mapping is now "
                        "VM_SPECIAL and can never merge"),
    "ioremap_too_big": "the mapping does not fit in the device's physical range",
    "kernel_pages_pfnmap": "WARNING: VM_PFNMAP set on a page-backed map",
    "nommu_prepare_unsupported": ("WARNING: {type} is not supported without an MMU (nommu "
                                  "prepare warns and carries on)"),
    "unknown_action": "WARNING: unknown action type {type}",
    "fill_fail": lambda e, d: (
        f"{_fill(e, d)} fails with {_errno(d['errno'])} (injected): "
        + ("the partly filled range is zapped" if d.get("op") in ("remap", "io_remap") else
           "nothing is zapped here; the pages already inserted go when the VMA is unmapped")),
    "fill_done": lambda e, d: f"{_fill(e, d)}: the page tables of {_vma(d['vma'])} are filled",
    "nommu_complete_unsupported": "WARNING: {type} cannot complete without an MMU: -EINVAL",
    "action_not_rewritten": "WARNING: {type} should have been rewritten by prepare",
    "hide_on_anon": "WARNING: hide flag on an anonymous VMA",
    "unmap_new_vma": lambda e, d: _unmap_new(e, d),
    "error_hook_cleared": "WARNING: error_hook cleared the error",
    # compat
    "compat_hide_cleared": ("hide flag cleared (new in v4): this VMA is not in any rmap yet, and "
                            "no i_mmap lock was taken that finish could release"),
    "check_mmap_hook": ("WARNING: a legacy f_op->mmap set vm_ops->mapped, which only "
                        "mmap_prepare may use"),
    # nommu
    "nommu_hook_fail": ("the file's hook failed: nommu frees the region and the VMA "
                        "(error_just_free)"),
    "nommu_added": lambda e, d: (f"{_vma(d['vma'])} {_span(d['start'], d['end'])} added (nommu "
                                 "never merges)"),
    # unmap, split, merge
    "already_detached": lambda e, d: (f"WARNING: {_vma(d['vma'])} is already detached "
                                      "(vma_assert_attached fails): something is unmapping a VMA "
                                      "that is not in the tree"),
    "reattached": "the gathered VMAs are reattached: the old mapping is restored intact",
    "split_map_count": "splitting inside one VMA would exceed vm.max_map_count",
    "gathered": _gathered,
    "clear_ptes": ("zap the old pages and page tables: from here the old mapping cannot be "
                   "restored"),
    "vma_freed": lambda e, d: f"{_vma(d['vma'])} is freed",
    "abort_hole": lambda e, d: (f"the old VMAs were already zapped and closed: "
                                f"{_span(d['start'], d['end'])} is left as a hole (the old "
                                "failure method)"),
    "prealloc_fail_split": "vma_iter_prealloc fails (injected)",
    "split": lambda e, d: (f"split at {d['addr']:#x}: {_vma(d['low'])} "
                           f"{_span(d['low_start'], d['low_end'])} and {_vma(d['high'])} "
                           f"{_span(d['high_start'], d['high_end'])}"),
    "split_limit": ("map_count is at vm.max_map_count: no room for the extra VMA a split "
                    "needs"),
    "dup_anon_vma": lambda e, d: (f"{_vma(d['vma'])} takes anon_vma#{d['anon_vma']} from "
                                  f"{_vma(d['src'])} so the merged VMA keeps its anonymous "
                                  "pages reachable"),
    "prealloc_fail_merge": ("vma_iter_prealloc fails: no memory for maple tree nodes "
                            "(injected, like the kernel tests' fail_prealloc)"),
    "merge_shift": lambda e, d: (f"{_vma(d['middle'])} shrinks to {_span(d['start'], d['end'])} "
                                 f"and {_vma(d['vma'])} grows down to {d['next_start']:#x}"),
    "merge_span": lambda e, d: (f"{_vma(d['vma'])} now spans {_span(d['start'], d['end'])} "
                                f"pgoff {d['pgoff']:#x}"),
    "merged_away": lambda e, d: f"{_vma(d['vma'])} is merged away and freed",
    "merge_special": "VM_SPECIAL mapping: never merged",
    "merge_next_close": lambda e, d: (f"{_vma(d['vma'])} has vm_ops->close, so it cannot be "
                                      "deleted: only prev is extended"),
    "merge_none": "no compatible neighbour: a new VMA is needed",
    "merge_with": "the new range can merge with {how}",
    "mprotect_done": lambda e, d: (f"{_vma(d['vma'])} {_span(d['start'], d['end'])} now has the "
                                   "new protection"),
    # faults
    "anon_vma_prepared": lambda e, d: (
        f"first write fault on a private page: {_vma(d['vma'])} gets "
        + (f"the neighbour's anon_vma#{d['anon_vma']}" if d.get("reused") else "a new anon_vma")),
    "populated": "pages faulted in after mmap_lock was dropped",
    # user space: what a scenario notes before and after the recorded call
    "before": lambda e, d: "before the call: " + _space(e.snapshot),
    "after": lambda e, d: _returns(d) + "; after the call: " + _space(e.snapshot),
    "never_returns": "the task never returns to user space: it is deadlocked",
    # your own program (mmviz.scenarios.program): each line announced, then its result
    "program_call": "line {line} of your program: {call}",
    "program_result": lambda e, d: f"{d['call']} returns " + (
        "nothing" if d.get("ret") is None else _errno(d["ret"]) if -4095 <= d["ret"] < 0
        else f"{d['ret']:#x}" if d["ret"] > 4096 else str(d["ret"])),
    "program_refused": "line {line}, {call}: the model refuses it: {why}",
    "build_error": ("mm/util.c: error: unknown type name 'casr' — v3's !CONFIG_MMU "
                    "mmap_action_complete() misspells 'case MMAP_MAP_KERNEL_PAGES:' as "
                    "'casr MMAP_MAP_KERNEL_PAGES:', which gcc reads as a declaration, so a "
                    "kernel without an MMU does not even build (fixed in v4, spec §6c)"),
    "driver_counts": ("the driver saw mmap_prepare x{prepare}, vm_ops->mapped x{mapped}, "
                      "success_hook x{success_hook}, error_hook x{error_hook}, close x{close}"),
    "builder_counts": ("the driver saw mmap_prepare x{prepare}, .mmap x{mmap}, vm_ops->mapped "
                       "x{mapped}, success_hook x{success_hook}, error_hook x{error_hook}"),
    "lower_counts": "the lower file saw mmap_prepare x{prepare} and vm_ops->mapped x{mapped}",
    "still_mapped_after_error": lambda e, d: (
        f"the call failed with {_errno(d['errno'])} but {_vma(d['vma'])} is still mapped in "
        "the range: user space was told the mapping does not exist"),
    "range_empty": "nothing is mapped in the requested range",
    "charge_mismatch": ("commit charge: {committed} pages are charged but VM_ACCOUNT VMAs own "
                        "only {owned}: the old VMA's charge moved to a mapping that never came "
                        "to be (spec §6j, an open question)"),
    # a version-1 trace file: its events carry their sentence
    "legacy_text": "{text}",
    # ---- issue 14: mremap, fork and the anonymous rmap, madvise, mlock, brk -----------------
    # (kept together at the end so that merges with other sentence changes stay easy)
    "anon_vma_freed": "anon_vma#{anon_vma} is freed: its last reference is gone",
    "anon_vma_cloned": lambda e, d: (
        f"{_vma(d['vma'])} is linked to every anon_vma of {_vma(d['src'])}'s chain ("
        + ", ".join(f"anon_vma#{a}" for a in d["chain"]) + ")"
        + (f"; it reuses anon_vma#{d['reused']}, which no VMA uses any more"
           if d.get("reused") is not None else "")),
    "anon_vma_reused": lambda e, d: (
        f"the child {_vma(d['vma'])} reuses anon_vma#{d['anon_vma']} (no VMA used it and it "
        "had fewer than two children): no new anon_vma"),
    "anon_vma_forked": lambda e, d: (
        f"the child {_vma(d['vma'])} gets its own anon_vma#{d['anon_vma']} (parent "
        f"anon_vma#{d['parent']}, root anon_vma#{d['root']}): its copy-on-write pages will go "
        "there, and with two links in its chain it is now a fork child"),
    "anon_vmas_unlinked": lambda e, d: (
        f"{_vma(d['vma'])} is unlinked from its anon_vmas"
        + ("; no VMA is linked to " + ", ".join(f"anon_vma#{a}" for a in d["freed"])
           + " any more" if d.get("freed") else "")),
    "cow_copy": lambda e, d: (
        f"copy-on-write at {d['addr']:#x}: the page is still mapped elsewhere, so "
        f"{_vma(d['vma'])} gets a private copy (folio#{d['new']}) in its own "
        f"anon_vma#{d['anon_vma']}"),
    "memlock_limit": lambda e, d: (
        f"RLIMIT_MEMLOCK: {d['locked']} locked pages would exceed the limit of "
        f"{d['limit']} pages and the process lacks CAP_IPC_LOCK"),
    "mlock_pages": lambda e, d: (
        f"{_vma(d['vma'])} {_span(d['start'], d['end'])} is "
        + ("locked: its pages will stay in memory" if d.get("locked") else "unlocked")),
    "madvise_flags": lambda e, d: (f"{d['advice']}: {_vma(d['vma'])} "
                                   f"{_span(d['start'], d['end'])} has its new flags"),
    "dontneed_zap": lambda e, d: (
        f"MADV_DONTNEED zaps {_span(d['start'], d['end'])} of {_vma(d['vma'])}: anonymous "
        "pages are gone (they read 0 again), file pages will be faulted in from the file"),
    "madvise_split_failed": ("the split failed with -ENOMEM, which madvise reports as -EAGAIN "
                             "(mprotect and mlock report -ENOMEM)"),
    "madvise_hole": lambda e, d: (f"{_span(d['start'], d['end'])} is unmapped: madvise "
                                  "remembers -ENOMEM and carries on with the next VMA"),
    "copy_vma_self_merge_faulted": lambda e, d: (
        f"WARNING: a faulted VMA merged with its own copy ({_vma(d['vma'])}): its pages' rmap "
        "index would be wrong (VM_BUG_ON in the kernel)"),
    "copy_vma_merged_self": lambda e, d: (
        f"the copy merged into the source itself: {_vma(d['vma'])} now covers both places "
        "(only possible for a never-written anonymous VMA, whose pgoff follows its address)"),
    "copy_vma_merged": lambda e, d: (
        f"the destination merges with a neighbour: {_vma(d['vma'])} now spans "
        f"{_span(d['start'], d['end'])}, no new VMA"),
    "copy_vma_new": lambda e, d: (
        f"no merge at the destination: {_vma(d['vma'])} is a copy of {_vma(d['src'])} with "
        f"pgoff {d['pgoff']:#x}, linked to the same anon_vmas"),
    "mremap_map_count": ("mremap needs headroom below vm.max_map_count for the splits a "
                         "move can make: -ENOMEM"),
    "mremap_duplicate_private": ("old_size 0 asks to duplicate a private mapping, which "
                                 "mremap refuses (-EINVAL)"),
    "ptes_moved": lambda e, d: (
        f"the page table entries move from {d['old_addr']:#x} to {d['new_addr']:#x} "
        f"({d['length'] >> 12} pages); the pages keep their anon_vma and index"
        + (", under the rmap locks (the copy precedes the source in rmap order)"
           if d.get("rmap_locks") else "")),
    "dontunmap_locked_vm": lambda e, d: (
        f"MREMAP_DONTUNMAP: {_vma(d['vma'])} loses VM_LOCKED but its {d['pages']} pages stay "
        "counted in locked_vm, for the life of the process (a kernel over-count, reproduced)"),
    "mremap_unmap_failed": lambda e, d: (
        f"unmapping the source failed ({_errno(d['errno'])}): the charge is put back and the "
        "old range stays"),
    "mremap_shrink_overcharge": lambda e, d: (
        f"the move charges {d['pages']} pages for the size difference although the shrink "
        "already happened: no VMA owns them, so the commit charge stays that much too high "
        "(a 6.18 accounting leak, reproduced)"),
    "mremap_moved": lambda e, d: (f"the mapping now lives at {_span(d['start'], d['end'])} "
                                  f"in {_vma(d['vma'])}"),
    "fork_start": "fork: process {pid} gets a copy of process {parent}'s address space",
    "fork_dontcopy": lambda e, d: (f"{_vma(d['vma'])} {_span(d['start'], d['end'])} is "
                                   "VM_DONTCOPY: the child gets a hole there"),
    "fork_copied": lambda e, d: (
        f"process {d['pid']} gets {_vma(d['vma'])} {_span(d['start'], d['end'])}, a copy of "
        f"{_vma(d['parent'])}"
        + (f", with anon_vma#{d['anon_vma']}" if d.get("anon_vma") is not None
           else ", unfaulted")),
    "mm_exited": "process {pid} exits: every VMA is unmapped and its anon_vmas unlinked",
    "brk_refused": lambda e, d: (f"brk({d['brk']:#x}) is refused: the break stays where it "
                                 "was, and brk() returns it"),
    "brk_moved": lambda e, d: f"the program break moves from {d['old']:#x} to {d['brk']:#x}",
    "rmap_walk_start": lambda e, d: (
        f"rmap walk of the page at {d['addr']:#x} in process {d['pid']}: "
        + (f"an anonymous page of anon_vma#{d['anon_vma']} (index {d['index']:#x}), so "
           "rmap_walk_anon read-locks the anon_vma tree's root and visits every VMA linked "
           "to that anon_vma whose pgoff range covers the index"
           if d.get("anon") else
           f"a page of {d['file']} (index {d['index']:#x}), so rmap_walk_file read-locks "
           "its i_mmap_rwsem and visits every VMA of the file covering the index")
        + "; no mmap_lock is taken"),
    "rmap_walk_visit": lambda e, d: (
        f"visit process {d['pid']}'s {_vma(d['vma'])} at {d['address']:#x}: "
        + ("the page is mapped there" if d.get("mapped") else
           "nothing or another page (a private copy) is mapped there")),
    "rmap_walk_done": "the walk visited {visited} VMAs; {mapped} of them map the page",
    "process_vmas": lambda e, d: (
        f"process {d['pid']} now has "
        + (", ".join(_span(a, b) for a, b in zip(d["bounds"][::2], d["bounds"][1::2]))
           or "no VMAs")),
    "locked_vm": "locked_vm is now {pages} pages",
    "rmap_no_page": lambda e, d: (f"no page is mapped at {d['addr']:#x} in process "
                                  f"{d['pid']}: there is nothing for an rmap walk to find"),
    # --- several tasks: waiting, per-VMA read locks, faults, rmap walkers, maps readers ---
    "wait_lock": lambda e, d: (f"{e.fn} must wait: {d['lock']} is held by "
                               + (", ".join(_task_label(e, p) for p in d.get("holders", []))
                                  or "a writer ahead in the queue")
                               + f" (wanted for {d.get('mode', 'write')}); another task runs"),
    "trylock_failed": "{fn} only tries {lock} for {mode}: it is taken, so it gives up at once",
    "vma_read_refused": lambda e, d: (f"{_vma(d['vma'])} cannot be read-locked now: it is "
                                      f"{d.get('why', 'busy')} (a fault falls back to mmap_lock)"),
    "vma_read_lock": lambda e, d: (f"{_vma(d['vma'])} is read-locked for a page fault: no "
                                   "mmap_lock needed"),
    "fault_retry": lambda e, d: (f"the fault in {_vma(d['vma'])} needs an anon_vma, hence "
                                 "mmap_lock, which a writer holds: VM_FAULT_RETRY, retry under "
                                 "mmap_lock"),
    "fault_no_vma": lambda e, d: f"no VMA at {d['addr']:#x} any more: the task gets SIGSEGV",
    "rmap_visit": lambda e, d: f"the rmap walk reaches {_vma(d['vma'])}",
    "zap_range": lambda e, d: (f"zap the file pages mapped in {_vma(d['vma'])} beyond the new "
                               "end" + (", private copies included" if d.get("even_cows")
                                        else "")),
    "truncate_pages": "drop the page cache beyond the new size ({size:#x} bytes)",
    "maps_line": lambda e, d: f"the maps reader prints the line of {_vma(d['vma'])}",
    "hugetlb_skip_no_lock": lambda e, d: (
        f"{_vma(d['vma'])} has no hugetlb VMA lock yet (vm_private_data is empty): the walker "
        "skips it, and its pages are not unmapped"),
    "after_tasks": lambda e, d: "the tasks return: " + ", ".join(
        f"task {pid} {_returns({'ret': ret}).removeprefix('the call returns ')}"
        for pid, ret in d.get("results", [])) + "; after the calls: " + _space(e.snapshot),
}

# --- issue 11: what each kernel variant lacks, and the series' real drivers ----------------------
# Variant-specific entries are dicts keyed by variant ("*": any other).

_FIRST = "the first mmap_action (ac0a3fc9c07d, Oct 2025)"

_LACKS = {
    "MMAP_SIMPLE_IO_REMAP": (
        f"{_FIRST} knew only MMAP_NOTHING, MMAP_REMAP_PFN and MMAP_IO_REMAP_PFN: "
        "mmap_action_simple_ioremap() came with the 2026 series, so {driver} would not even "
        "build against this kernel"),
    "MMAP_MAP_KERNEL_PAGES": (
        f"{_FIRST} knew only MMAP_NOTHING, MMAP_REMAP_PFN and MMAP_IO_REMAP_PFN: "
        "mmap_action_map_kernel_pages() came with the 2026 series, so {driver} would not "
        "even build against this kernel"),
    "vm_ops_mapped": (
        f"{_FIRST} has no vm_ops->mapped (added by the 2026 series, \"mm: add "
        "vm_ops->mapped hook\"): {driver} relies on it, so this kernel cannot run it"),
    "action_hooks": (
        "mainline has no success_hook or error_hook: they were replaced by "
        "action.error_override, which can only replace an error, so {driver}, which uses "
        "the hooks, has no equivalent here"),
    "error_override": (
        "this kernel has no action.error_override: it came after v4, replacing success_hook "
        "and error_hook, so {driver} cannot set it here"),
    "compat_desc_helpers": (
        f"{_FIRST} has no compat_set_desc_from_vma() and no __compat_vma_mmap(desc, vma): "
        "its __compat_vma_mmap(f_op, file, vma) runs a file's own mmap_prepare, so a driver "
        "with a nested mmap_prepare callback, such as {driver}, has no way to call it"),
}


def _unsupported(e, d) -> str:
    text = _LACKS.get(d.get("feature"), "this kernel lacks {feature}, which {driver} needs")
    name = d.get("driver")
    return "not possible on this kernel: " + text.format(
        driver=f"the driver '{name}'" if name else "the driver", feature=d.get("feature"))


def _file_ref(e, d) -> str:
    if e.what == "file_ref_leak":
        return (f"file reference leak (spec §8): when {e.fn}() returns, {d['file']} has "
                f"{d['count']} reference(s) but only {d['owners']} owner(s) (fds, VMAs, a "
                "stacked file): nothing will ever drop the rest")
    return (f"file reference underflow: when {e.fn}() returns, {d['file']} has {d['count']} "
            f"reference(s) for {d['owners']} owner(s): one was dropped twice")


SENTENCES.update({
    "unsupported": _unsupported,
    "compat_hide_kept": {
        "baseline": ("the lower file set hide_from_rmap_until_complete; the first version's "
                     "compat path leaves it set and nothing here acts on it: only "
                     "__mmap_region's call_action_complete() releases the rmap lock, and this "
                     "VMA is not in any rmap yet"),
        "v3": ("the lower file set hide_from_rmap_until_complete; v3's compat path leaves it "
               "set, harmlessly: it completes the action with rmap_lock_held=false, so finish "
               "releases nothing"),
        "*": ("the lower file set hide_from_rmap_until_complete and this compat path leaves "
              "it set"),
    },
    "compat_skip_unmap": lambda e, d: (
        f"{_CAUSES.get(d.get('cause'), 'a step failed')} in the compat path (is_compat): finish "
        f"returns {_errno(d['errno'])} without do_munmap() or error_override; the caller that "
        "is setting the VMA up cleans it up"),
    "error_overridden": lambda e, d: (
        f"error_override replaces {_errno(d['errno'])} with {_errno(d['override'])}"),
    "error_override_invalid": lambda e, d: (
        f"WARNING: check_mmap_action(): error_override is {d['value']}, not an error code "
        "(-4095..-1): prepare fails with -EINVAL"),
    "remap_range_warn": ("WARNING: mmap_action_remap(): the range lies outside the mapping "
                         "(the first version only warned; prepare could not fail)"),
    "nommu_no_direct": ("a shared mapping without an MMU maps the driver's own memory "
                        "(NOMMU_MAP_DIRECT), which needs f_op->get_unmapped_area: without it "
                        "mmap() is refused with -ENODEV"),
    "nommu_shared_partial": ("WARNING: MAP_SHARED not completely supported on !MMU: the device "
                             "cannot map directly with this protection"),
    "nommu_munmap_none": lambda e, d: (
        f"WARNING: munmap of memory not mmapped: nommu's do_munmap() finds no VMA in "
        f"{_span(d['start'], d['end'])} and returns -EINVAL"),
    "file_ref_leak": _file_ref,
    "file_ref_underflow": _file_ref,
    "hugetlb_state": ("hugetlbfs now holds {reserved} reserved huge page(s), {resv_maps} "
                      "reservation map(s) of private mappings and {vma_locks} per-VMA lock(s), "
                      "for {vmas} VMA(s)"),
    "prepare_state_leaked": ("leak: {resv_maps} reservation map(s) ({reserved} huge page(s) "
                             "reserved) were made in mmap_prepare for a mapping that never came "
                             "to be; no VMA exists whose close could release them (spec §6g)"),
    "hugetlb_lock_visible": ("the hugetlb VMA lock was allocated after the rmap lock was "
                             "released: for that window an rmap walker (truncation) could find "
                             "the VMA without its lock, which the hide flag was meant to "
                             "prevent"),
    "driver_refs": ("the driver's object holds {refs} reference(s) for {vmas} VMA(s) "
                    "(mmap_prepare x{prepare}, vm_ops->mapped x{mapped}, close x{close})"),
    "driver_ref_leak": ("reference leak: the driver's object holds {refs} reference(s) but "
                        "{vmas} VMA(s) remain to drop them in close"),
})


def _s6(hook) -> str:
    if hook == "mmap_prepare":
        return ("try to merge the new range with its neighbours, judged on the final flags, "
                "file and pgoff the driver chose in mmap_prepare")
    if hook == "mmap":
        return ("try to merge the new range with its neighbours, judged on the flags, file "
                "and pgoff as mmap() asked: the driver's .mmap runs later, inside "
                "__mmap_new_vma, too late to change this decision")
    return ("try to merge the new range with its neighbours, judged on its flags and pgoff "
            "(anonymous memory has no driver to change them)")


def _step_sentence(d, variant="*") -> str:
    s = _pick(STEPS.get(d.get("step"), "step {step}"), variant)
    return s(d) if callable(s) else s.format(**d)


def _pick(entry, variant):
    if isinstance(entry, dict):
        return entry.get(variant, entry.get("*"))
    return entry


def _plain(event) -> str:
    d = event.data
    fields = ", ".join(f"{k}={d[k]}" for k in sorted(d))
    return f"{event.fn}: {event.what}" + (f" ({fields})" if fields else "")


def _task_label(event, pid) -> str:
    """'A[1]', as the timeline and the headers name a task (from the event's snapshot), or
    'task 1' when the snapshot does not list it."""
    tasks = getattr(getattr(event, "snapshot", None), "tasks", ()) or ()
    return next((t.label for t in tasks if t.pid == pid), f"task {pid}")


def sentence(event, variant: str = "v4") -> str:
    """The sentence that explains `event` in a trace recorded under `variant`.

    An event whose fields do not fit its sentence (a hand-edited trace file) is told plainly
    as `fn: what (fields)` rather than raising.
    """
    d = event.data
    entry = _pick(SENTENCES.get(event.what), variant)
    if entry is None and event.kind == "violation":
        entry = VIOLATIONS.get(event.what)
    if entry is None:
        return _plain(event)
    try:
        return entry(event, d) if callable(entry) else entry.format(fn=event.fn, **d)
    except (KeyError, IndexError, TypeError, ValueError, AttributeError):
        return _plain(event)


def violation_message(trace, violation) -> str:
    """What the lock checker said, in lockdep's words, for one of `trace.violations`."""
    return sentence(trace.events[violation.seq], trace.kernel)


def known_whats() -> set:
    """Every `what` this module has a sentence for (tests check the model emits no other)."""
    return set(SENTENCES) | set(VIOLATIONS)


# --- several tasks: who runs, who waits ----------------------------------------------------------

def switch_note(trace, i) -> str:
    """At the first event after the CPU passes to another task: why. Empty elsewhere, and in
    a trace of one task."""
    if not trace.tasks or i <= 0 or i >= len(trace.events):
        return ""
    before, now = trace.events[i - 1], trace.events[i]
    if before.task == now.task or now.what == "after_tasks":
        return ""
    was = next((tv for tv in now.snapshot.tasks if tv.pid == before.task), None)
    who, runs = trace.task_label(before.task), trace.task_label(now.task)
    if was is None:
        return f"{runs} runs now"
    if was.waiting_for is not None:
        holders = [trace.task_label(tv.pid) for tv in now.snapshot.tasks
                   if was.waiting_for in tv.locks and tv.pid != was.pid]
        return (f"{runs} runs now: {who} sleeps, waiting for {was.waiting_for}"
                + (f" (held by {', '.join(holders)})" if holders else ""))
    if was.state == "done":
        return f"{runs} runs now: {who} has returned from its call"
    if was.state == "hung":
        return f"{runs} runs now: {who} is stuck for good"
    held = f", holding {', '.join(was.locks)}" if was.locks else ""
    return f"{runs} runs now: the schedule preempts {who} here{held}"


def tasks_line(snapshot, trace) -> str:
    """Each task's state in one line: who runs, what each holds, what each waits for."""
    out = []
    for tv in snapshot.tasks:
        bits = [tv.state]
        if tv.locks:
            bits.append("holds " + ", ".join(tv.locks))
        if tv.waiting_for is not None:
            bits.append(f"waits for {tv.waiting_for}")
        out.append(f"{trace.task_label(tv.pid)} {'; '.join(bits)}")
    return " · ".join(out)
