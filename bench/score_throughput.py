"""Benchmark: `earful score` on 50k tweet-length texts against raw single-core VADER.

Prints both throughputs, measured in the same run, and their ratio (target: earful score
>= 1.5x raw VADER). `earful score` does more per text (language detection, the customer
lexicon, complaint cues) and wins by a faster VADER and both cores.
Run: `.venv/bin/python bench/score_throughput.py`.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

sys.path.insert(0, str(Path(__file__).parent))
from ingest_throughput import make_texts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--texts", type=int, default=50_000)
    args = parser.parse_args()
    texts = make_texts(args.texts, seed=99)
    analyzer = SentimentIntensityAnalyzer()
    start, cpu = time.perf_counter(), time.process_time()
    for text in texts:
        analyzer.polarity_scores(text)
    vader_s = time.perf_counter() - start
    vader_cpu = time.process_time() - cpu
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "texts.jsonl"
        source.write_text("".join(json.dumps({"id": i, "text": t}) + "\n"
                                  for i, t in enumerate(texts)))
        earful = Path(sys.executable).with_name("earful")
        before = _children_cpu()
        start = time.perf_counter()
        out = subprocess.run([str(earful), "score", str(source)], check=True,
                             capture_output=True, text=True).stdout
        score_s = time.perf_counter() - start
        score_cpu = _children_cpu() - before
    lines = out.count("\n")
    n = len(texts)
    print(f"texts:                 {n:,} (tweet-length, {os.cpu_count()} cores)")
    print(f"raw VADER, one core:   {vader_s:6.2f} s  ({n / vader_s:,.0f} texts/s)")
    print(f"earful score (CLI):    {score_s:6.2f} s  ({n / score_s:,.0f} texts/s, "
          f"{lines:,} results)")
    print(f"throughput ratio:      {vader_s / score_s:6.2f}x  (target >= 1.5x)")
    # CPU time is less sensitive to other load on the machine than the wall clock.
    print(f"CPU per text:          VADER {vader_cpu / n * 1e6:.0f} us; earful score "
          f"{score_cpu / n * 1e6:.0f} us over all its processes, start-up included")


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


if __name__ == "__main__":
    main()
