"""Small helpers the lesson notebooks call, so each cell stays one readable line.

Every `show_*` helper has two faces:
- in a live notebook (JupyterLab, Binder) it displays the interactive widget
  (`mmviz.widgets.Stepper`, `Compare`, `Predict`, `ScenarioBuilder`);
- when the notebook is executed for the slides (`mmviz slides` sets MMVIZ_STATIC=1) it
  displays plain HTML instead, above all the self-contained stepper of
  `mmviz.render.stepper_html`, which steps in a browser without a kernel.

This package belongs to the notebook layer: it may use widgets, render and trace, and
nothing below imports it. It draws nothing itself (pictures come from `mmviz.render`).
IPython and ipywidgets are imported only when a helper runs. One module per job:

| module | what |
| --- | --- |
| `display` | live or static: the steppers, Compare, the Builder, the Explorer, layout, timeline and rmap-walk pictures |
| `traces` | a trace in words: `say`, `outcome`, `outcome_matrix`, `strip`, `lock_timeline` |
| `maps_text` | a /proc/PID/maps text made readable: `compact_maps`, `summarize_maps`, `maps_excerpt` |
| `questions` | `show_predict`, `show_questions` (a `Quiz`), `show_program`, `check_reference_answers`, `reveal_answers` |
| `pools` | `lesson_questions(lesson)`: each lesson's question kinds and scenarios (`POOLS`) |
| `capstone` | lesson 09's capstone: `Capstone` (predict, check, reveal), its reference answers |
| `live_check` | `live_compare`: the model beside this machine's kernel |

`from mmviz.lessons import X` works for every name below.
"""

from .display import (STATIC_ENV, STEPPER_HEIGHT, show_before_after, show_builder,  # noqa: F401
                      show_compare, show_explorer, show_layout, show_rmap_walk, show_stepper,
                      show_timeline, static_mode, stepper_iframe)
from .live_check import live_compare  # noqa: F401
from .maps_text import compact_maps, maps_excerpt, summarize_maps  # noqa: F401
from .pools import POOLS, lesson_questions  # noqa: F401
from .questions import (check_reference_answers, reveal_answers, show_predict,  # noqa: F401
                        show_program, show_questions)
from .traces import (OutcomeMatrix, lock_timeline, outcome, outcome_matrix, say,  # noqa: F401
                     snapshot_of, strip)

__all__ = ["STATIC_ENV", "STEPPER_HEIGHT", "static_mode", "stepper_iframe", "show_stepper",
           "show_compare", "show_builder", "show_layout", "show_before_after", "show_timeline",
           "show_explorer", "show_rmap_walk", "say",
           "outcome", "outcome_matrix", "OutcomeMatrix", "snapshot_of", "strip",
           "lock_timeline", "maps_excerpt", "compact_maps", "summarize_maps", "show_predict",
           "show_questions", "show_program", "check_reference_answers", "reveal_answers",
           "live_compare", "lesson_questions", "POOLS"]
