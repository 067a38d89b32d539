"""Image captioning with visual attention (issue 17): Show, Attend and Tell (Xu et al. 2015) on canvases of
Fashion-MNIST items: the canvases and captions (data.py), the CNN encoder and attentive LSTM decoder (model.py),
the doubly stochastic penalty, BLEU and attention localization (metrics.py), the attention pictures (plots.py)
and the task registered as "captioning" (task.py)."""

from attn_research.tasks.captioning.task import CaptioningTask, PlotExample

__all__ = ["CaptioningTask", "PlotExample"]
