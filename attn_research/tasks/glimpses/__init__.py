"""Hard visual attention with glimpses (issue 18): the recurrent attention model of Mnih et al. (2014) on
Fashion-MNIST canvases: the canvases (data.py), the glimpse sensor (sensor.py), RAM (model.py), the classifier
baselines (classifiers.py), the hybrid loss (losses.py), metrics (metrics.py), the glimpse paths (plots.py) and
the task registered as "glimpses" (task.py)."""

from attn_research.tasks.glimpses.task import GlimpsesTask, PlotExample

__all__ = ["GlimpsesTask", "PlotExample"]
