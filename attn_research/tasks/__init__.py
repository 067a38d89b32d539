"""Tasks: one folder each (seq2seq today; images, glimpses, speech, sentence pairs, series next).

TASKS lists them; every subpackage of this folder is imported here, so that a new task folder registers
itself (@TASKS.register in its own module) without a line anywhere else. config.task selects one
(build_task); training/ runs any of them through the interface of tasks/base.py.
"""

import importlib
import pkgutil

from attn_research.tasks.base import TASKS, EvalResult, Evaluator, LossOutput, Task, build_task, recorded_config

for _module in pkgutil.iter_modules(__path__):
    if _module.ispkg:
        importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["TASKS", "EvalResult", "Evaluator", "LossOutput", "Task", "build_task", "recorded_config"]
