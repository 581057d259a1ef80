"""Kernel error numbers the model returns (negated), with Linux's values."""

import enum


class Errno(enum.IntEnum):
    """The errno values the modelled paths can return (x86-64 numbering)."""

    EPERM = 1
    EINTR = 4
    EBADF = 9
    EAGAIN = 11
    ENOMEM = 12
    EACCES = 13
    EFAULT = 14
    EBUSY = 16
    EEXIST = 17
    ENODEV = 19
    EINVAL = 22
    ETXTBSY = 26
    EFBIG = 27
    ENOSPC = 28
    EIO = 5
    EOVERFLOW = 75
    EOPNOTSUPP = 95

    @classmethod
    def name_of(cls, err: int) -> str:
        """'-ENOMEM' for -12; a plain number for values outside the table."""
        try:
            return "-" + cls(-err).name
        except ValueError:
            return str(err)


def is_err(value: int) -> bool:
    """True if value is a negative errno (the kernel's IS_ERR_VALUE)."""
    return -4095 <= value < 0
