"""Lesson 09's capstone: two drivers the catalog does not have, a prediction for three kernel
versions, then the check — with the reference answers kept here, out of the notebook.

    from mmviz.lessons.capstone import Capstone
    cap = Capstone()
    cap.predict("capdev", {"baseline": ("-EINVAL", 1, False), ...})   # recorded first
    cap.check("capdev")          # right / look again per version (limited tries)
    cap.reveal("capdev")         # the reference and the worked why, only after predicting

A prediction is (what mmap returns, how many VMAs are left, does the lock checker
complain): ("ok", 1, False), ("-EIO", 0, True), ("deadlock", 0, True)... The model decides
what is right (`observed`); `REFERENCE` is the instructor's answer key with the why, and a
test checks that it agrees with the model. The notebook only ever calls these functions.
"""

from __future__ import annotations

from ..model.drivers import DriverSpec
from ..model.errno import Errno
from ..model.errors import InputError
from ..model.uapi import MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, PAGE_SIZE as P
from ..scenarios.base import RW, A, map_fd
KERNELS = ("baseline", "v3", "v4")


def _capdev_setup(world):
    return {"fd": world.open_driver(DriverSpec(
        "pfn-remap", name="capdev", hide=True, fail={"success_hook": -Errno.EINVAL}))}


def _late_setup(world):
    world.mmap(A, 4 * P, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED)
    return {"fd": world.open_driver(DriverSpec(
        "regular", name="late", hide=True, fail={"mapped": -Errno.EIO}))}


def scenarios() -> dict:
    from ..scenarios import Scenario
    return {
        "capdev": Scenario("capdev", "The capstone driver",
                           "hide + REMAP_PFN + failing success_hook", _capdev_setup,
                           map_fd()),
        "late": Scenario("late-mapped-fail", "MAP_FIXED, hidden, ->mapped fails",
                         "4 anonymous pages at A, then a hidden file mapped over them with "
                         "MAP_FIXED whose ->mapped fails with -EIO", _late_setup,
                         map_fd()),
    }


def observed(trace) -> tuple:
    """(what mmap returns, VMAs left, does the lock checker complain) of a recorded run."""
    r = trace.result
    ret = "deadlock" if r.outcome == "deadlock" else (f"-{r.errno}" if r.errno else "ok")
    return (ret, len(trace.final.vmas), bool(trace.violations))


# The instructor's answer key: what the model gives, and why (spec sections in brackets).
REFERENCE = {
    "capdev": {
        "baseline": (("-EINVAL", 1, False), "the success_hook's error goes straight back to "
                     "user space while the VMA stays mapped (§6i); the rmap lock is released "
                     "once, by the caller, because nothing failed before the hook"),
        "v3": (("-EINVAL", 1, False), "the same in v3: finish drops the rmap lock first, then "
               "returns the hook's error without unmapping"),
        "v4": (("-EINVAL", 0, False), "v4 sends the hook's error down the common error path: "
               "unlock once, then do_munmap; nothing is left"),
    },
    "late": {
        "baseline": (("ok", 1, False), "the baseline has no ->mapped: nothing fails, the file "
                     "mapping replaces the anonymous memory"),
        "v3": (("-EIO", 0, True), "->mapped fails after finish released the rmap lock, and "
               "call_mapped_hook() releases it again: a double unlock (§6a); the old memory "
               "was zapped by MAP_FIXED, so nothing is left"),
        "v4": (("-EIO", 0, False), "a clean error: one unlock, then the unmap; but still a "
               "hole where the anonymous memory was (§6j)"),
    },
}


class Capstone:
    """Predictions for the capstone's parts, recorded before any answer is shown.

    `attempts` checks per part: each says right / look again per kernel version, never the
    answer; `reveal(part)` shows the reference and why, and only after a prediction."""

    def __init__(self, attempts: int = 3):
        self.attempts = attempts
        self.log: list = []
        self._traces: dict = {}

    def _part(self, part):
        if part not in REFERENCE:
            raise InputError(f"no capstone part {part!r}; the parts are "
                             + ", ".join(REFERENCE))
        return REFERENCE[part]

    def predict(self, part: str, prediction: dict) -> str:
        """Record a prediction {kernel: (returns, VMAs left, checker complains)}."""
        self._part(part)
        if not isinstance(prediction, dict) or set(prediction) != set(KERNELS):
            raise InputError("a prediction gives every version: {'baseline': (...), "
                             "'v3': (...), 'v4': (...)}")
        for k, guess in prediction.items():
            if guess is None:
                continue
            if not (isinstance(guess, tuple) and len(guess) == 3):
                raise InputError(f"{k}: a prediction is (what mmap returns, VMAs left, "
                                 "complains?), e.g. ('-EIO', 0, True) or ('ok', 1, False)")
        self.log.append({"part": part, "prediction": dict(prediction)})
        return f"prediction {len(self.predictions(part))} for {part} recorded"

    def predictions(self, part) -> list:
        return [x["prediction"] for x in self.log if x["part"] == part]

    def run(self, part, kernel):
        from ..scenarios import run
        key = (part, kernel)
        if key not in self._traces:
            self._traces[key] = run(scenarios()[part], kernel=kernel)
        return self._traces[key]

    def check(self, part: str) -> str:
        """Right / look again per version for the last prediction (never the answer)."""
        self._part(part)
        preds = self.predictions(part)
        if not preds:
            return f"predict first: cap.predict({part!r}, {{...}})"
        if len(preds) > self.attempts:
            return (f"{self.attempts} predictions were checked: see the answer with "
                    f"cap.reveal({part!r})")
        lines = []
        for k in KERNELS:
            guess = preds[-1].get(k)
            seen = observed(self.run(part, k))
            word = ("not predicted yet" if guess is None else
                    "right" if tuple(guess) == seen else "look again")
            lines.append(f"{k:8s} {word}")
        left = self.attempts - len(preds)
        lines.append(f"({left} more prediction{'s' if left != 1 else ''} may be checked)"
                     if left else f"(no more checks: cap.reveal({part!r}) shows the answer)")
        return "\n".join(lines)

    def reveal(self, part: str) -> str:
        """The reference answer and why — only once a prediction was recorded."""
        ref = self._part(part)
        if not self.predictions(part):
            return f"predict first (cap.predict({part!r}, {{...}})): the answer comes after"
        return "\n".join(f"{k:8s} {ans}: {why}" for k, (ans, why) in ref.items())
