"""Train the complaint model on the labelled development set and write its weights.

    python -m sentiment.train_complaint [--data sentiment/data/complaints_dev.csv]

Prints 5-fold cross-validated precision, recall and F1 for the complaint class (the honest
figure: each row is scored by a model that never saw it) and the figures on the whole set,
then writes sentiment/lexicon/complaint-v1.json. Logistic regression with L2 and class
weights balanced, so the decision point stays at probability 0.5 whatever the class mix."""

from __future__ import annotations

import argparse
import csv
import json
import random
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from sentiment.complaint import COMPLAINT_THRESHOLD, MODEL_VERSION, feature_names, features
from sentiment.cues import extract
from sentiment.vader import score

HERE = Path(__file__).parent
L2 = 1.0  # ridge strength; features are 0..1, so weights stay in a readable range
FOLDS = 5


def load(path: Path) -> tuple[list[str], np.ndarray]:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [r["text"] for r in rows], np.array([int(r["is_complaint"]) for r in rows])


def matrix(texts: list[str]) -> np.ndarray:
    names = feature_names()
    out = np.zeros((len(texts), len(names)))
    for i, text in enumerate(texts):
        values = features(extract(text, score(text).compound))
        for j, name in enumerate(names):
            out[i, j] = values.get(name, 0.0)
    return out


def fit(x: np.ndarray, y: np.ndarray, iterations: int = 4000, rate: float = 0.5
        ) -> tuple[float, np.ndarray]:
    positives = max(1, int(y.sum()))
    negatives = max(1, len(y) - positives)
    sample_weight = np.where(y == 1, len(y) / (2 * positives), len(y) / (2 * negatives))
    bias, weights = 0.0, np.zeros(x.shape[1])
    for _ in range(iterations):
        p = 1 / (1 + np.exp(-(bias + x @ weights)))
        error = (p - y) * sample_weight
        grad_w = x.T @ error / len(y) + L2 * weights / len(y)
        grad_b = error.mean()
        weights -= rate * grad_w
        bias -= rate * grad_b
    return bias, weights


def prf(y: np.ndarray, predicted: np.ndarray) -> tuple[float, float, float]:
    tp = int(((predicted == 1) & (y == 1)).sum())
    fp = int(((predicted == 1) & (y == 0)).sum())
    fn = int(((predicted == 0) & (y == 1)).sum())
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=HERE / "data" / "complaints_dev.csv")
    parser.add_argument("--out", type=Path,
                        default=HERE / "lexicon" / f"{MODEL_VERSION}.json")
    args = parser.parse_args()
    texts, y = load(args.data)
    x = matrix(texts)
    order = list(range(len(y)))
    random.Random(13).shuffle(order)
    predicted = np.zeros(len(y), dtype=int)
    for fold in range(FOLDS):
        test = np.array([i for k, i in enumerate(order) if k % FOLDS == fold])
        train = np.array([i for k, i in enumerate(order) if k % FOLDS != fold])
        bias, weights = fit(x[train], y[train])
        p = 1 / (1 + np.exp(-(bias + x[test] @ weights)))
        predicted[test] = (p >= COMPLAINT_THRESHOLD).astype(int)
    cv = prf(y, predicted)
    bias, weights = fit(x, y)
    p_all = 1 / (1 + np.exp(-(bias + x @ weights)))
    whole = prf(y, (p_all >= COMPLAINT_THRESHOLD).astype(int))
    vader_only = prf(y, np.array([1 if (score(t).compound or 0) <= -0.05 else 0
                                  for t in texts]))
    print(f"rows: {len(y)} ({int(y.sum())} complaints)")
    print(f"VADER negative as complaint:  P={vader_only[0]:.3f} R={vader_only[1]:.3f} "
          f"F1={vader_only[2]:.3f}")
    print(f"complaint model, {FOLDS}-fold CV:  P={cv[0]:.3f} R={cv[1]:.3f} F1={cv[2]:.3f}")
    print(f"complaint model, whole set:   P={whole[0]:.3f} R={whole[1]:.3f} F1={whole[2]:.3f}")
    model = {
        "version": MODEL_VERSION,
        "trained_at": datetime.now(UTC).date().isoformat(),
        "data": str(args.data.relative_to(HERE.parent)) if args.data.is_relative_to(
            HERE.parent) else str(args.data),
        "rows": len(y),
        "cross_validated": {"precision": round(cv[0], 3), "recall": round(cv[1], 3),
                            "f1": round(cv[2], 3)},
        "threshold": COMPLAINT_THRESHOLD,
        "bias": round(float(bias), 4),
        "weights": {name: round(float(w), 4) for name, w in zip(feature_names(), weights,
                                                                 strict=True)},
    }
    args.out.write_text(json.dumps(model, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
