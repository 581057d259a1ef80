"""Which new mappings KSM may merge when a process opted in to it for everything (mm/ksm.c)."""

from .instrument import kernel_function
from .vm_flags import VM_SPECIAL, VmFlags

_NEVER_MERGEABLE = (VmFlags.VM_SHARED | VmFlags.VM_MAYSHARE | VM_SPECIAL | VmFlags.VM_HUGETLB
                    | VmFlags.VM_DROPPABLE)


@kernel_function("mm/ksm.c", "simplified", quiet=True)
def ksm_compatible(file, vm_flags) -> bool:
    """Shared, special, hugetlb and droppable mappings are never KSM-merged (DAX files and
    the powerpc/sparc arch bits, which the model does not have, neither)."""
    return not vm_flags & _NEVER_MERGEABLE


def ksm_vma_flags(mm, file, vm_flags) -> int:
    """Add VM_MERGEABLE when the process set PR_SET_MEMORY_MERGE and KSM can take the mapping.

    Mirrors ksm_vma_flags() in mm/ksm.c."""
    if mm.world.config.ksm_merge_any and ksm_compatible(file, vm_flags):
        return vm_flags | VmFlags.VM_MERGEABLE
    return vm_flags
