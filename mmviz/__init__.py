"""mmviz: learn how Linux maps memory by stepping through a faithful model of the mmap path.

`import mmviz` loads only the standard-library model; pictures and widgets load lazily.
"""

from .model import Errno, InputError, KernelConfig, ModelBug, MmvizError, TaskHung, World
from .model.uapi import (MAP_ANONYMOUS, MAP_FIXED, MAP_FIXED_NOREPLACE, MAP_NONBLOCK,
                         MAP_NORESERVE, MAP_POPULATE, MAP_PRIVATE, MAP_SHARED,
                         MAP_SHARED_VALIDATE, MAP_STACK, O_RDONLY, O_RDWR, O_WRONLY, PAGE_SIZE,
                         PROT_EXEC, PROT_NONE, PROT_READ, PROT_WRITE)

__version__ = "0.1.0"

__all__ = [
    "Errno", "InputError", "KernelConfig", "ModelBug", "MmvizError", "TaskHung", "World",
    "MAP_ANONYMOUS", "MAP_FIXED", "MAP_FIXED_NOREPLACE", "MAP_NONBLOCK", "MAP_NORESERVE",
    "MAP_POPULATE", "MAP_PRIVATE", "MAP_SHARED", "MAP_SHARED_VALIDATE", "MAP_STACK", "O_RDONLY",
    "O_RDWR", "O_WRONLY", "PAGE_SIZE", "PROT_EXEC", "PROT_NONE", "PROT_READ", "PROT_WRITE",
]
