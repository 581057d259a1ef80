"""Exceptions of the model: caller mistakes, model bugs and a hung task."""


class MmvizError(Exception):
    """Base class of every error mmviz raises on purpose."""


class InputError(MmvizError, ValueError):
    """A caller passed something the model cannot take; the message says what is allowed."""


class ModelBug(MmvizError, AssertionError):
    """A broken model invariant: the VM_BUG_ON of the model."""


class TaskHung(MmvizError, RuntimeError):
    """The modelled task self-deadlocked; the world cannot run further syscalls."""
