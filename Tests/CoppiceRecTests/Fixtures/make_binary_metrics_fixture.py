#!/usr/bin/env python3
"""Writes binary_metrics.json: fixed predictions and labels (with tied scores and predictions at 0
and 1) and what numpy/scikit-learn compute for them — ROC-AUC, log loss, normalized entropy with a
given training CTR, calibration and accuracy. Run with a Python that has numpy and scikit-learn:
    /opt/torch-venv/bin/python Tests/CoppiceRecTests/Fixtures/make_binary_metrics_fixture.py
"""
import json
import os

import numpy as np
from sklearn.metrics import log_loss, roc_auc_score

rng = np.random.default_rng(7)
n = 997
labels = (rng.random(n) < 0.27).astype(np.int64)
scores = np.clip(0.27 + 0.35 * (labels - 0.27) + 0.2 * rng.standard_normal(n), 0, 1)
scores = np.round(scores, 2).astype(np.float32)  # rounding makes many ties; clipping gives exact 0 and 1
scores[:3] = [0.0, 1.0, 0.5]
p = scores.astype(np.float64)
eps = 1e-7  # Coppice clamps predictions to [eps, 1 - eps] before the logarithm
train_ctr = 0.25
entropy = -(train_ctr * np.log(train_ctr) + (1 - train_ctr) * np.log(1 - train_ctr))
loss = log_loss(labels, np.clip(p, eps, 1 - eps), labels=[0, 1])
fixture = {
    "labels": labels.tolist(),
    "predictions": [float(x) for x in scores],
    "train_ctr": train_ctr,
    "auc": roc_auc_score(labels, p),
    "log_loss": loss,
    "normalized_entropy": loss / entropy,
    "calibration": float(p.mean() / labels.mean()),
    "accuracy": float(((p >= 0.5) == (labels == 1)).mean()),
}
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "binary_metrics.json")
with open(path, "w") as f:
    json.dump(fixture, f)
print(path, {k: v for k, v in fixture.items() if not isinstance(v, list)})
