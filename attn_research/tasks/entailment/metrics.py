"""Classification metrics of a split: accuracy, per-class precision / recall / F1, macro F1, confusion matrix
(scikit-learn's definitions; a class never predicted has precision 0, never present recall 0)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def confusion_matrix(labels: np.ndarray, predictions: np.ndarray, num_classes: int) -> np.ndarray:
    """[num_classes, num_classes] int64 counts: row = gold class, column = predicted class.
    labels, predictions: [examples] ints in [0, num_classes); ValueError otherwise or if their shapes differ."""
    labels, predictions = np.asarray(labels), np.asarray(predictions)
    if labels.shape != predictions.shape or labels.ndim != 1:
        raise ValueError(f"labels {labels.shape} and predictions {predictions.shape} must be one 1-D shape")
    for name, values in (("labels", labels), ("predictions", predictions)):
        if values.size and (values.min() < 0 or values.max() >= num_classes):
            raise ValueError(f"{name} must lie in [0, {num_classes}), got {values.min()}..{values.max()}")
    from sklearn import metrics as sk_metrics  # pylint: disable=import-outside-toplevel  (slow import)

    return sk_metrics.confusion_matrix(labels, predictions, labels=np.arange(num_classes)).astype(np.int64)


def classification_metrics(labels: np.ndarray, predictions: np.ndarray, class_names: Sequence[str]) -> dict[str, float]:
    """{"accuracy", "macro_f1", "precision_<c>", "recall_<c>", "f1_<c>", "confusion_<gold>_as_<predicted>"}
    for every class name c (confusion: counts as floats), all in [0, 1] except the counts.
    Raises ValueError as confusion_matrix does."""
    from sklearn import metrics as sk_metrics  # pylint: disable=import-outside-toplevel  (slow import)

    matrix = confusion_matrix(labels, predictions, len(class_names))
    precision, recall, f1, _ = sk_metrics.precision_recall_fscore_support(
        labels, predictions, labels=np.arange(len(class_names)), zero_division=0
    )
    result = {"accuracy": float(np.trace(matrix) / max(matrix.sum(), 1)), "macro_f1": float(np.mean(f1))}
    for c, name in enumerate(class_names):
        result[f"precision_{name}"], result[f"recall_{name}"], result[f"f1_{name}"] = (
            float(precision[c]),
            float(recall[c]),
            float(f1[c]),
        )
    for gold, gold_name in enumerate(class_names):
        for predicted, predicted_name in enumerate(class_names):
            result[f"confusion_{gold_name}_as_{predicted_name}"] = float(matrix[gold, predicted])
    return result
