"""Interactive views over recorded traces (standard ipywidgets only; they never change the model).

- `Stepper(trace)`: step through one trace; source, layout, lock timeline, call graph.
- `ScenarioBuilder()`: compose a scenario with controls, record it, step through it.
- `Compare(trace_a, trace_b)`: two traces side by side, steps aligned, differences marked.
- `Predict(trace)`: predict the next state, then see it and why.
- `Quiz(questions)`: multiple-choice questions, limited tries, a hint, the why, a score.
- `ProgramRunner(world=None)`: type mmap/munmap/mprotect/touch calls, step through them.
- `Explorer(race)`: every single-switch schedule of a race of two tasks, judged; step
  through the one you pick.

ipywidgets and matplotlib are imported when one of these names is first used, never by
`import mmviz` or `import mmviz.widgets`.
"""

from __future__ import annotations

import importlib

_WHERE = {"Stepper": "stepper", "ScenarioBuilder": "builder", "Compare": "compare",
          "Predict": "predict", "Quiz": "quiz", "ProgramRunner": "program",
          "Explorer": "explorer"}

__all__ = list(_WHERE)


def __getattr__(name):
    mod = _WHERE.get(name)
    if mod is None:
        raise AttributeError(f"module 'mmviz.widgets' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{mod}", __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(list(globals()) + __all__)
