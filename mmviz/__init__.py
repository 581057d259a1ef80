"""mmviz: learn how Linux maps memory by stepping through a faithful model of the mmap path.

`import mmviz` loads only the standard-library model; pictures and widgets load lazily.
"""

from .model import Errno, InputError, KernelConfig, ModelBug, MmvizError, TaskHung, World
from .model.uapi import (MADV_COLD, MADV_DODUMP, MADV_DOFORK, MADV_DONTDUMP, MADV_DONTFORK,
                         MADV_DONTNEED, MADV_DONTNEED_LOCKED, MADV_HUGEPAGE, MADV_KEEPONFORK,
                         MADV_MERGEABLE, MADV_NOHUGEPAGE, MADV_NORMAL, MADV_PAGEOUT,
                         MADV_RANDOM, MADV_SEQUENTIAL, MADV_UNMERGEABLE, MADV_WILLNEED,
                         MADV_WIPEONFORK, MAP_ANONYMOUS, MAP_FIXED, MAP_FIXED_NOREPLACE,
                         MAP_LOCKED, MAP_NONBLOCK, MAP_NORESERVE, MAP_POPULATE, MAP_PRIVATE,
                         MAP_SHARED, MAP_SHARED_VALIDATE, MAP_STACK, MLOCK_ONFAULT,
                         MREMAP_DONTUNMAP, MREMAP_FIXED, MREMAP_MAYMOVE, O_RDONLY, O_RDWR,
                         O_WRONLY, PAGE_SIZE, PROT_EXEC, PROT_NONE, PROT_READ, PROT_WRITE)

__version__ = "0.1.0"

__all__ = [
    "Errno", "InputError", "KernelConfig", "ModelBug", "MmvizError", "TaskHung", "World",
    "MAP_ANONYMOUS", "MAP_FIXED", "MAP_FIXED_NOREPLACE", "MAP_NONBLOCK", "MAP_NORESERVE",
    "MAP_POPULATE", "MAP_PRIVATE", "MAP_SHARED", "MAP_SHARED_VALIDATE", "MAP_STACK", "O_RDONLY",
    "O_RDWR", "O_WRONLY", "PAGE_SIZE", "PROT_EXEC", "PROT_NONE", "PROT_READ", "PROT_WRITE",
    "MAP_LOCKED", "MREMAP_MAYMOVE", "MREMAP_FIXED", "MREMAP_DONTUNMAP", "MLOCK_ONFAULT",
    "MADV_NORMAL", "MADV_RANDOM", "MADV_SEQUENTIAL", "MADV_WILLNEED", "MADV_DONTNEED",
    "MADV_DONTNEED_LOCKED", "MADV_DONTFORK", "MADV_DOFORK", "MADV_WIPEONFORK",
    "MADV_KEEPONFORK", "MADV_DONTDUMP", "MADV_DODUMP", "MADV_MERGEABLE", "MADV_UNMERGEABLE",
    "MADV_HUGEPAGE", "MADV_NOHUGEPAGE", "MADV_COLD", "MADV_PAGEOUT",
]
