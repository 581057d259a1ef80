"""The kernel variants the model can run: one table, one entry per kernel, each naming its source.

Every per-variant difference in the model is a field of `Variant`, read as
`world.variant.<field>`; no model code compares variant names. A variant is cited the way
drgn cites kernels: the series or mail it comes from, and the commit or message id.
See docs/variants.md for the prose version of this table.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Variant:
    """One modelled kernel: where it comes from and what its mmap completion does."""

    name: str
    title: str
    source: str                   # series, mail or tree the behaviour was read from
    commit: str                   # commit id or message id
    # How __mmap_region and mmap_action_finish complete an action (spec §0.1):
    #   "unlock_after_finish": call_action_complete() unlocks the rmap only after finish
    #                          returns, and finish unmaps first (the baseline)
    #   "unlock_then_mapped":  finish unlocks first, then __mmap_region runs
    #                          call_mapped_hook() (v3)
    #   "mapped_then_unlock":  one mmap_action_complete(); finish runs ->mapped and the
    #                          hooks, then one unlock, then the unmap (v4)
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


VARIANTS = {
    "baseline": Variant(
        "baseline", "the first mmap_action (Oct 2025)",
        "mm: add ability to take further action in vm_area_desc", "ac0a3fc9c07d",
        completion="unlock_after_finish", hide_flag_in_map_state=True, compat_clears_hide_flag=False,
        compat_calls_mapped_separately=False, checks_mmap_hook=False, nommu_builds=True),
    "v3": Variant(
        "v3", "v3 of \"mm: expand mmap_prepare functionality and usage\" (19 Mar 2026)",
        "mm: expand mmap_prepare functionality and usage, v3",
        "the v3 posting, as the deleted lines of the v3->v4 delta show",
        completion="unlock_then_mapped", hide_flag_in_map_state=True, compat_clears_hide_flag=False,
        compat_calls_mapped_separately=True, checks_mmap_hook=True, nommu_builds=False),
    "v4": Variant(
        "v4", "v4 of \"mm: expand mmap_prepare functionality and usage\" (20 Mar 2026)",
        "mm: expand mmap_prepare functionality and usage, v4",
        "cover.1774045440.git.ljs@kernel.org",
        completion="mapped_then_unlock", hide_flag_in_map_state=False, compat_clears_hide_flag=True,
        compat_calls_mapped_separately=False, checks_mmap_hook=True, nommu_builds=True),
}

KERNELS = tuple(VARIANTS)
DEFAULT_KERNEL = "v4"


def variant(name: str) -> Variant:
    """The Variant called `name`; KeyError if there is none (callers turn it into InputError)."""
    return VARIANTS[name]
