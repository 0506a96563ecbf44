"""Complaint likelihood (0..1) beyond plain negativity, with the reasons that produced it.

A small logistic model over the explainable cues of sentiment/cues.py. Its weights live in
sentiment/lexicon/complaint-<version>.json, trained by `python -m sentiment.train_complaint`
on the hand-labelled development set in sentiment/data/ (provenance in its README)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cache
from importlib import resources
from operator import itemgetter

from sentiment.cues import CUES, CueHit
from sentiment.cues import hits as cue_hits

__all__ = [
    "COMPLAINT_THRESHOLD",
    "MODEL_VERSION",
    "Complaint",
    "feature_names",
    "features",
    "score_complaint",
]

MODEL_VERSION = "complaint-v1"
# A probability: 0.5 is the decision point of the trained (class-balanced) model itself,
# not a value tuned on examples.
COMPLAINT_THRESHOLD = 0.5
# A cue must move the log-odds by at least this much to be named as a reason.
_REASON_MIN_CONTRIBUTION = 0.2
# Interactions the linear model cannot express on its own.
_INTERACTIONS = (("failure", "first_person"), ("failure", "praise"), ("question", "failure"),
                 ("elapsed", "failure"))
_LABELS = {cue.name: cue.label for cue in CUES}
# Cues shown to reviewers but not weighed. An @handle marks nearly every tweet to a brand,
# complaint or not, and never a Reddit post, review or article: as a weight it would learn
# how a data set was collected, not what a complaint is.
_CONTEXT_ONLY = frozenset({"addressed"})


@dataclass(frozen=True, slots=True)
class Complaint:
    probability: float
    is_complaint: bool
    reasons: tuple[str, ...]


def feature_names() -> list[str]:
    return [cue.name for cue in CUES if cue.name not in _CONTEXT_ONLY] + [
        f"{a}*{b}" for a, b in _INTERACTIONS]


def features(hits: list[CueHit]) -> dict[str, float]:
    values = {hit.name: hit.value for hit in hits if hit.name not in _CONTEXT_ONLY}
    for a, b in _INTERACTIONS:
        if a in values and b in values:
            values[f"{a}*{b}"] = values[a] * values[b]
    return values


@dataclass(frozen=True, slots=True)
class _Model:
    bias: float
    weights: dict[str, float]
    threshold: float


@cache
def _model(version: str = MODEL_VERSION) -> _Model:
    path = resources.files("sentiment").joinpath("lexicon", f"{version}.json")
    data = json.loads(path.read_text("utf-8"))
    return _Model(float(data["bias"]), {k: float(v) for k, v in data["weights"].items()},
                  float(data.get("threshold", COMPLAINT_THRESHOLD)))


def _reason(name: str, evidence: str) -> str:
    if name == "addressed":
        return f"addressed to {evidence}"
    if name in ("negative", "positive"):
        return f"{_LABELS[name]} ({evidence})"
    return f'{_LABELS[name]} ("{evidence}")'


def score_complaint(text: str, compound: float | None) -> Complaint:
    """How likely `text` complains about a product or service, and why. Pure."""
    model = _model()
    weights = model.weights
    found = cue_hits(text, compound)
    # features(), on the (name, value, evidence) tuples.
    values = {name: value for name, value, _ in found if name not in _CONTEXT_ONLY}
    for a, b in _INTERACTIONS:
        if a in values and b in values:
            values[f"{a}*{b}"] = values[a] * values[b]
    logit = model.bias + sum([weights.get(k, 0.0) * v for k, v in values.items()])
    probability = 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, logit))))
    # The cues that moved the log-odds enough, largest first (a stable sort: ties keep the
    # cues' order).
    named = [(weight, name, evidence) for name, value, evidence in found
             if name != "length" and (weight := weights.get(name, 0.0) * value)
             >= _REASON_MIN_CONTRIBUTION]
    named.sort(key=itemgetter(0), reverse=True)
    reasons = [_reason(name, evidence) for _, name, evidence in named]
    if reasons:
        reasons += [_reason(name, evidence) for name, _, evidence in found
                    if name in _CONTEXT_ONLY]
    return Complaint(round(probability, 4), probability >= model.threshold, tuple(reasons))
