"""Run logging: metrics to JSON lines and W&B, alignment heatmaps, a progress bar."""

from attn_research.logging.attention_plots import plot_attention
from attn_research.logging.progress import ProgressBar, progress_bar
from attn_research.logging.writer import MetricWriter, NullWriter

__all__ = ["MetricWriter", "NullWriter", "plot_attention", "progress_bar", "ProgressBar"]
