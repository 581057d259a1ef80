"""The kernel variants the model can run: one table, one entry per kernel, each naming its source.

Every per-variant difference in the model is a field of `Variant`, read as
`world.variant.<field>`; no model code compares variant names. A variant is cited the way
drgn cites kernels: the series or mail it comes from, and the commit or message id; `tree`
says which stored files the behaviour was read in (spec §0 and §0.1).
What a variant lacks is never borrowed from a later one: `lacks()` names the missing piece
and a scenario that needs it ends as "unsupported".
See docs/variants.md for the prose version of this table.
"""

from __future__ import annotations

from dataclasses import dataclass

# The mmap_action types of the first version (include/linux/mm_types.h, Oct 2025).
FIRST_ACTION_TYPES = ("MMAP_NOTHING", "MMAP_REMAP_PFN", "MMAP_IO_REMAP_PFN")
ALL_ACTION_TYPES = FIRST_ACTION_TYPES + ("MMAP_SIMPLE_IO_REMAP", "MMAP_MAP_KERNEL_PAGES")

# What a driver or scenario can need from a kernel (see Variant.lacks and DriverSpec.needs).
FEATURES = ("MMAP_SIMPLE_IO_REMAP", "MMAP_MAP_KERNEL_PAGES", "vm_ops_mapped", "action_hooks",
            "error_override", "compat_desc_helpers")


@dataclass(frozen=True)
class Variant:
    """One modelled kernel: where it comes from and how its mmap_prepare machinery behaves."""

    name: str
    title: str
    source: str                   # series, mail or tree the behaviour was read from
    commit: str                   # commit id or message id
    tree: str                     # the stored files it was read in (spec §0)
    # How __mmap_region and mmap_action_finish complete an action (spec §0.1):
    #   "unlock_after_finish": call_action_complete() unlocks the rmap only after finish
    #                          returns, and finish unmaps first (the baseline)
    #   "unlock_then_mapped":  finish unlocks first, then __mmap_region runs
    #                          call_mapped_hook() (v3)
    #   "mapped_then_unlock":  one mmap_action_complete(); finish runs ->mapped and the
    #                          hooks, then one unlock, then the unmap (v4, mainline)
    completion: str
    # The hide flag travels in mmap_state.hold_file_rmap_lock (copied in call_action_prepare)
    # rather than being read from the action itself.
    hide_flag_in_map_state: bool
    # compat_vma_mmap() forces action->hide_from_rmap_until_complete to false (new in v4).
    compat_clears_hide_flag: bool
    # The compat path calls ->mapped on its own, after completion (v3's __compat_vma_mapped).
    compat_calls_mapped_separately: bool
    # vfs_mmap() refuses a legacy .mmap that set vm_ops->mapped (__vma_check_mmap_hook()).
    checks_mmap_hook: bool
    # The !CONFIG_MMU mmap_action_complete() compiles (v3 misspelled a case label, spec §6c).
    nommu_builds: bool
    # The enum mmap_action_type of this kernel.
    action_types: tuple = ALL_ACTION_TYPES
    # mmap_action_prepare() returns an error (the first version's prepare was void: it
    # could not fail, and out-of-range remaps only WARNed in the setter).
    action_prepare_can_fail: bool = True
    # Prepare rewrites MMAP_IO_REMAP_PFN into MMAP_REMAP_PFN (the first version completed it
    # as an I/O remap with io_remap_pfn_range_complete()).
    io_remap_rewritten_in_prepare: bool = True
    # vm_operations_struct has ->mapped.
    has_mapped_hook: bool = True
    # struct mmap_action has success_hook and error_hook.
    action_hooks: bool = True
    # struct mmap_action has error_override, checked by check_mmap_action().
    error_override: bool = False
    # compat_set_desc_from_vma() and __compat_vma_mmap(desc, vma) exist for drivers that run
    # a nested mmap_prepare callback themselves (the first version had only
    # __compat_vma_mmap(f_op, file, vma), which runs the file's own hook).
    compat_desc_helpers: bool = True
    # mmap_action_complete() is told it runs in the compat path (is_compat): finish neither
    # unmaps nor applies the error override there (spec §6e fix, Apr 2026).
    compat_is_compat: bool = False
    # compat_set_desc_from_vma() copies vma->vm_ops into the descriptor (newest util.c).
    compat_desc_copies_vm_ops: bool = False
    # abort_munmap drops the reference of a file mmap_prepare swapped in (spec §6h fix,
    # "mm/vma: fix memory leak in __mmap_region()", 31 Mar 2026).
    abort_puts_swapped_file: bool = False
    # hugetlbfs maps through mmap_prepare with a success_hook (ea52cb24cd3f); reverted to
    # .mmap on 12 May 2026 (83f9efcce93f).
    hugetlbfs_mmap_prepare: bool = True

    def lacks(self, feature: str) -> bool:
        """Does this kernel lack `feature` (one of FEATURES)?"""
        if feature in ("MMAP_SIMPLE_IO_REMAP", "MMAP_MAP_KERNEL_PAGES"):
            return feature not in self.action_types
        return not {"vm_ops_mapped": self.has_mapped_hook, "action_hooks": self.action_hooks,
                    "error_override": self.error_override,
                    "compat_desc_helpers": self.compat_desc_helpers}[feature]


VARIANTS = {
    "baseline": Variant(
        "baseline", "the first mmap_action (Oct 2025)",
        "mm: add ability to take further action in vm_area_desc", "ac0a3fc9c07d",
        "linux-mm mm/vma.c 009857a22860 (hold_file_rmap_lock, call_action_complete); "
        "util.c as the stable backport of 3e4bb2706817 shows it before that patch",
        completion="unlock_after_finish", hide_flag_in_map_state=True, compat_clears_hide_flag=False,
        compat_calls_mapped_separately=False, checks_mmap_hook=False, nommu_builds=True,
        action_types=FIRST_ACTION_TYPES, action_prepare_can_fail=False,
        io_remap_rewritten_in_prepare=False, has_mapped_hook=False, compat_desc_helpers=False),
    "v3": Variant(
        "v3", "v3 of \"mm: expand mmap_prepare functionality and usage\" (19 Mar 2026)",
        "mm: expand mmap_prepare functionality and usage, v3",
        "the v3 posting, as the deleted lines of the v3->v4 delta show",
        "the deleted lines of akpm's v3->v4 mm-unstable delta (20 Mar 2026)",
        completion="unlock_then_mapped", hide_flag_in_map_state=True, compat_clears_hide_flag=False,
        compat_calls_mapped_separately=True, checks_mmap_hook=True, nommu_builds=False),
    "v4": Variant(
        "v4", "v4 of \"mm: expand mmap_prepare functionality and usage\" (20 Mar 2026)",
        "mm: expand mmap_prepare functionality and usage, v4",
        "cover.1774045440.git.ljs@kernel.org",
        "ljs mm/vma.c 3459185e9249; util.c from the added lines of the v3->v4 delta",
        completion="mapped_then_unlock", hide_flag_in_map_state=False, compat_clears_hide_flag=True,
        compat_calls_mapped_separately=False, checks_mmap_hook=True, nommu_builds=True),
    "mainline": Variant(
        "mainline", "the newest tree (May 2026): error_override, is_compat, the leak fix",
        "mm/util.c with error_override and check_mmap_action; \"mm/vma: do not try to unmap "
        "a VMA if mmap_prepare() invoked from mmap()\" (is_compat); \"mm/vma: fix memory leak "
        "in __mmap_region()\"; \"mm/vma: remove __vma_check_mmap_hook()\"; the hugetlbfs "
        "revert",
        "0a1e70b48f45 (linux-mm/linux-mm mm/util.c)",
        "linux-mm mm/util.c 0a1e70b48f45 and include/linux/mm_types.h 0199209e47e0; "
        "damonitor mm/vma.c 084fa7cc2211; 3d3544a6c996 (remove __vma_check_mmap_hook); "
        "20260421102150.189982-1-ljs@kernel.org (is_compat); "
        "20260512160643.266960-1-ljs@kernel.org (hugetlbfs revert, 83f9efcce93f)",
        completion="mapped_then_unlock", hide_flag_in_map_state=False, compat_clears_hide_flag=True,
        compat_calls_mapped_separately=False, checks_mmap_hook=False, nommu_builds=True,
        action_hooks=False, error_override=True, compat_is_compat=True,
        compat_desc_copies_vm_ops=True, abort_puts_swapped_file=True,
        hugetlbfs_mmap_prepare=False),
}

KERNELS = tuple(VARIANTS)
DEFAULT_KERNEL = "v4"


def variant(name: str) -> Variant:
    """The Variant called `name`; KeyError if there is none (callers turn it into InputError)."""
    return VARIANTS[name]
