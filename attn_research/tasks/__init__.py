"""Tasks: one folder each (seq2seq today; images, glimpses, speech, sentence pairs, series next).

TASKS lists them; every subpackage of this folder is imported here, so that a new task folder registers
itself (@TASKS.register in its own module) without a line anywhere else. config.task selects one
(build_task); training/ runs any of them through the interface of tasks/base.py.
"""

import importlib
import pkgutil
from typing import Any

from attn_research.tasks.base import DEFAULT_TASK, TASKS, EvalResult, Evaluator, LossOutput, Task

for _module in pkgutil.iter_modules(__path__):
    if _module.ispkg:
        importlib.import_module(f"{__name__}.{_module.name}")


def build_task(config: Any) -> Task:
    """The task of config.task (DEFAULT_TASK when the key is missing). Raises ValueError listing the
    registered tasks for an unknown name."""
    return TASKS.get(config.get("task", DEFAULT_TASK))(config)


def recorded_config(config: Any) -> dict[str, Any]:
    """The config as a results JSON records it: config.model reduced to the keys the task's model read."""
    plain = config.to_dict()
    if "model" in plain:
        plain["model"] = build_task(config).recorded_model_config()
    return plain


__all__ = ["TASKS", "EvalResult", "Evaluator", "LossOutput", "Task", "build_task", "recorded_config"]
