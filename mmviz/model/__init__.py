"""The kernel model: standard library only. See mmviz.model.world.World for the entry point."""

from .errno import Errno
from .errors import InputError, ModelBug, MmvizError, TaskHung
from .world import KERNELS, Faults, KernelConfig, World

__all__ = ["Errno", "Faults", "InputError", "KERNELS", "KernelConfig", "ModelBug", "MmvizError",
           "TaskHung", "World"]
