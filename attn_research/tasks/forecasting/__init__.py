"""Long-term forecasting on ETTh1 / ETTh2 (issue 21): the windows (data.py), the models (Repeat, DLinear,
patch attention, a Transformer, a recurrent model with temporal attention; models.py), MSE / MAE
(metrics.py), the plots (plots.py) and the task registered as "forecasting" (task.py)."""

from attn_research.tasks.forecasting.task import ForecastingTask, ForecastPlots, default_data_config

__all__ = ["ForecastPlots", "ForecastingTask", "default_data_config"]
