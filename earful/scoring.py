"""`earful score` and `earful eval`: the detection pipeline on bare texts, without brands,
sources or a database. Scoring runs on every core for large inputs, output in input order."""

from __future__ import annotations

import csv
import io
import json
import math
import multiprocessing
import os
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import IO, Any

from sentiment.complaint import score_complaint
from sentiment.language import detect_language
from sentiment.vader import compound_score, label_for

__all__ = [
    "EvalResult",
    "InputError",
    "evaluate",
    "json_line_items",
    "read_records",
    "score_lines",
    "score_records",
    "score_text",
]

# Small enough that the last chunks keep both workers busy to the end (a 2,000-text chunk
# is ~0.2 s of one core), large enough that handing it over costs nothing.
_CHUNK = 500
# Fewer records than this are scored in-process: starting workers would cost more.
_PARALLEL_MIN = 4_000
# One encoder for every line: json.dumps(..., ensure_ascii=False) builds a new one per call.
_ENCODER = json.JSONEncoder(ensure_ascii=False)


class InputError(ValueError):
    """A record that cannot be scored; the message names its line."""


def score_text(text: str, lang_hint: str | None = None) -> dict[str, Any]:
    return _scored({}, text, lang_hint)


def _scored(into: dict[str, Any], text: str, lang_hint: str | None) -> dict[str, Any]:
    """score_text's fields, added to `into` (which may already hold the id)."""
    lang = detect_language(text, lang_hint)
    compound = compound_score(text, lang)
    into["compound"] = compound
    into["label"] = label_for(compound)
    if compound is None:
        into["complaint"] = into["is_complaint"] = None
        into["lang"] = lang
        into["reasons"] = []
        return into
    complaint = score_complaint(text, compound)
    into["complaint"] = complaint.probability
    into["is_complaint"] = complaint.is_complaint
    into["lang"] = lang
    into["reasons"] = list(complaint.reasons)
    return into


def _parse_json_line(line: str, line_no: int) -> tuple[Any, str, str | None]:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise InputError(f"line {line_no}: not valid JSON ({exc.msg})") from None
    if not isinstance(record, dict) or not isinstance(record.get("text"), str):
        raise InputError(f"line {line_no}: expected an object with a string 'text'")
    return record.get("id", line_no), record["text"], record.get("lang")


def read_records(handle: IO[str], *, csv_input: bool, text_col: str = "text",
                 id_col: str = "id") -> Iterator[tuple[Any, str, str | None]]:
    """(id, text, lang) per record, from JSON lines or CSV. A bad record raises InputError
    naming its line."""
    if csv_input:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None or text_col not in reader.fieldnames:
            raise InputError(f"CSV has no {text_col!r} column (columns: {reader.fieldnames})")
        for row_no, row in enumerate(reader, start=2):
            yield row.get(id_col) or str(row_no - 1), row[text_col] or "", row.get("lang")
        return
    for line_no, line in enumerate(handle, start=1):
        if line.strip():
            yield _parse_json_line(line, line_no)


# A work item is a parsed record, or a raw JSON line with its number: workers parse lines
# themselves so the reading process stays free to feed them.
_Item = tuple[Any, str, str | None] | tuple[int, str]


def _score_chunk(chunk: list[_Item]) -> list[str]:
    """Scored results as JSON lines (serialised in the worker, for the same reason)."""
    out = []
    for item in chunk:
        if len(item) == 2:
            line_no, line = item  # type: ignore[misc]
            rid, text, lang = _parse_json_line(line, line_no)
        else:
            rid, text, lang = item  # type: ignore[misc]
        out.append(_ENCODER.encode(_scored({"id": rid}, text, lang)))
    return out


def _chunks(items: Iterable[_Item]) -> Iterator[list[_Item]]:
    chunk: list[_Item] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= _CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def json_line_items(handle: IO[str]) -> Iterator[_Item]:
    for line_no, line in enumerate(handle, start=1):
        if line.strip():
            yield line_no, line


def score_lines(items: Iterable[_Item], workers: int | None = None) -> Iterator[str]:
    """One JSON line per item, in order. Starts worker processes once the input is large."""
    chunks = _chunks(items)
    head: list[list[_Item]] = []
    for chunk in chunks:
        head.append(chunk)
        if sum(len(c) for c in head) >= _PARALLEL_MIN:
            break
    workers = workers or os.cpu_count() or 1
    if workers == 1 or sum(len(c) for c in head) < _PARALLEL_MIN:
        for chunk in head:
            yield from _score_chunk(chunk)
        for chunk in chunks:
            yield from _score_chunk(chunk)
        return
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    # Load the models once here; forked workers inherit them instead of each loading its own.
    # (Plainly English text skips the language model: the second text is there to load it.)
    score_text("warm up the lexicon and the complaint model")
    score_text("et le modèle de langue aussi, pour les textes qui ne sont pas en anglais")
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context(method)) as pool:
        def all_chunks() -> Iterator[list[_Item]]:
            yield from head
            yield from chunks

        for results in pool.map(_score_chunk, all_chunks(), chunksize=1):
            yield from results


def score_records(records: Iterable[tuple[Any, str, str | None]],
                  workers: int | None = None) -> Iterator[dict[str, Any]]:
    """One result dict per (id, text, lang) record, in order."""
    for line in score_lines(records, workers):
        yield json.loads(line)


@dataclass(frozen=True, slots=True)
class EvalResult:
    kind: str  # "complaint" (binary labels) or "sentiment" (numeric ratings)
    rows: int
    figures: dict[str, float]

    def lines(self) -> list[str]:
        f = self.figures
        if self.kind == "complaint":
            return [
                f"rows: {self.rows} ({int(f['positives'])} labelled complaints)",
                f"complaint:  precision {f['precision']:.3f}  recall {f['recall']:.3f}  "
                f"F1 {f['f1']:.3f}",
                f"VADER negative as complaint (baseline):  precision "
                f"{f['vader_precision']:.3f}  recall {f['vader_recall']:.3f}  "
                f"F1 {f['vader_f1']:.3f}",
            ]
        return [
            f"rows: {self.rows} (scored in English: {int(f['scored'])})",
            f"Pearson r, earful compound vs rating:      {f['pearson_r']:.3f}",
            f"Pearson r, plain VADER compound vs rating: {f['vader_pearson_r']:.3f}",
        ]


_TRUE = {"1", "true", "yes", "y", "complaint", "t"}
_FALSE = {"0", "false", "no", "n", "not_complaint", "non-complaint", "f", "none"}


def _pearson(xs: list[float], ys: list[float]) -> float:
    n = len(xs)
    if n < 2:
        return float("nan")
    mx, my = sum(xs) / n, sum(ys) / n
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    return sxy / math.sqrt(sxx * syy) if sxx and syy else float("nan")


def _prf(pairs: list[tuple[bool, bool]]) -> tuple[float, float, float]:
    tp = sum(1 for p, y in pairs if p and y)
    fp = sum(1 for p, y in pairs if p and not y)
    fn = sum(1 for p, y in pairs if not p and y)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    return precision, recall, (2 * precision * recall / (precision + recall)
                               if precision + recall else 0.0)


def evaluate(text: str, text_col: str, label_col: str) -> EvalResult:
    """P/R/F1 for a binary complaint label, or Pearson r for a numeric sentiment label."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in (text_col, label_col) if c not in (reader.fieldnames or [])]
    if missing:
        raise InputError(f"CSV has no column {missing[0]!r} (columns: {reader.fieldnames})")
    rows = [(r[text_col] or "", (r[label_col] or "").strip()) for r in reader]
    labels = {label.lower() for _, label in rows}
    plain = SentimentIntensityAnalyzer()
    records = [(i, t, None) for i, (t, _) in enumerate(rows)]
    results = list(score_records(records))
    if labels <= _TRUE | _FALSE:
        truth = [label.lower() in _TRUE for _, label in rows]
        ours = _prf([(bool(r["is_complaint"]), y) for r, y in zip(results, truth, strict=True)])
        vader = _prf([(plain.polarity_scores(t)["compound"] <= -0.05, y)
                      for (t, _), y in zip(rows, truth, strict=True)])
        return EvalResult("complaint", len(rows), {
            "positives": sum(truth), "precision": ours[0], "recall": ours[1], "f1": ours[2],
            "vader_precision": vader[0], "vader_recall": vader[1], "vader_f1": vader[2]})
    try:
        ratings = [float(label) for _, label in rows]
    except ValueError:
        raise InputError(f"column {label_col!r} is neither a binary label (1/0, true/false, "
                         "yes/no) nor a number") from None
    scored = [(r["compound"], y, t) for r, y, (t, _) in zip(results, ratings, rows, strict=True)
              if r["compound"] is not None]
    return EvalResult("sentiment", len(rows), {
        "scored": len(scored),
        "pearson_r": _pearson([c for c, _, _ in scored], [y for _, y, _ in scored]),
        "vader_pearson_r": _pearson([plain.polarity_scores(t)["compound"] for _, _, t in scored],
                                    [y for _, y, _ in scored]),
    })
