"""Benchmark: `earful ingest` on 50k tweet-length mentions against raw single-core VADER.

Prints both figures, measured in the same run, and their ratio (target: ingest time /
VADER time <= 0.6). Run: `make bench` or `.venv/bin/python bench/ingest_throughput.py`.

Two more figures say where the ratio comes from: earful's detection alone (language,
sentiment and complaint cues: what ingest runs on every mention) on one core, and how much
faster two processes are than one on this machine. Their quotient, over VADER's time, is
the ratio ingest would reach if parsing, storing and starting up cost nothing.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

BRANDS = ["Acme", "Globex", "Initech", "Umbrella", "Hooli"]
OPENERS = ["@{h}", "Honestly {b}", "Day {n} with {b}:", "{b} support", "Why is {b}",
           "Shoutout to {b}", "So {b}", "Dear {b},", "Just tried {b}", "PSA: {b}"]
WORDS = (
    "order delivery refund app update crash login password account charge bill invoice store "
    "staff manager queue flight train parcel courier phone signal network outage price plan "
    "coffee latte burger fries table booking ticket seat luggage bank card transfer fee loan "
    "great awful love hate slow fast broken fixed amazing terrible helpful rude friendly "
    "still again waiting never always finally today yesterday week month hours minutes please "
    "thanks why how when really very so not no cancel scam disappointed happy angry frustrated "
    "excellent worst best ok fine meh lol ugh wow :) :( !!! ?"
).split()


def make_texts(n: int, seed: int = 42) -> list[str]:
    rng = random.Random(seed)
    texts = []
    for i in range(n):
        brand = rng.choice(BRANDS)
        opener = rng.choice(OPENERS).format(h=brand.lower(), b=brand, n=rng.randint(2, 30))
        body = " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 40)))
        texts.append(f"{opener} {body} #{i}"[:280])
    return texts


def write_export(texts: list[str], path: Path, seed: int = 7) -> None:
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as out:
        for i, text in enumerate(texts):
            out.write(json.dumps({
                "source": "bench", "external_id": str(i), "url": f"https://social.test/p/{i}",
                "author": f"@user{rng.randint(1, 20000)}",
                "author_followers": int(rng.paretovariate(1.2) * 50),
                "published_at": f"2026-11-{rng.randint(1, 21):02d}T{rng.randint(0, 23):02d}:00:00Z",
                "text": text, "likes": rng.randint(0, 50),
            }) + "\n")


def time_raw_vader(texts: list[str]) -> float:
    analyzer = SentimentIntensityAnalyzer()
    start = time.perf_counter()
    for text in texts:
        analyzer.polarity_scores(text)
    return time.perf_counter() - start


def _vader_part(texts: list[str]) -> None:
    analyzer = SentimentIntensityAnalyzer()
    for text in texts:
        analyzer.polarity_scores(text)


def time_two_processes(texts: list[str]) -> float:
    """Raw VADER over the texts split between two processes running at once."""
    halves = [texts[: len(texts) // 2], texts[len(texts) // 2:]]
    start = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(2) as pool:
        pool.map(_vader_part, halves, chunksize=1)
    return time.perf_counter() - start


def time_detection(texts: list[str]) -> float:
    """earful's detection on one core: the scoring every ingested mention goes through."""
    from earful.scoring import score_text

    score_text(texts[0])  # models loaded outside the timing, as ingest loads them once
    start = time.perf_counter()
    for text in texts:
        score_text(text)
    return time.perf_counter() - start


def time_ingest_cli(export: Path, config: Path, db: Path) -> float:
    earful = Path(sys.executable).with_name("earful")
    start = time.perf_counter()
    subprocess.run([str(earful), "ingest", str(export), "--config", str(config), "--db", str(db)],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mentions", type=int, default=50_000)
    args = parser.parse_args()
    texts = make_texts(args.mentions)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        export, config, db = folder / "export.jsonl", folder / "earful.toml", folder / "b.duckdb"
        write_export(texts, export)
        config.write_text("".join(
            f'[[brands]]\nname = "{b}"\nterms = ["{b}"]\nhandles = ["@{b.lower()}"]\n\n'
            for b in BRANDS))
        vader_s = time_raw_vader(texts)
        detection_s = time_detection(texts)
        two_s = time_two_processes(texts)
        ingest_s = time_ingest_cli(export, config, db)
        stored = duckdb.connect(str(db), read_only=True).execute(
            "SELECT count(*) FROM mentions").fetchone()[0]
        rerun_s = time_ingest_cli(export, config, db)
    n = len(texts)
    print(f"mentions:                 {n:,} (tweet-length, {os.cpu_count()} cores)")
    print(f"raw VADER, one core:      {vader_s:6.2f} s  ({n / vader_s:,.0f} texts/s)")
    print(f"earful ingest (CLI):      {ingest_s:6.2f} s  ({n / ingest_s:,.0f} mentions/s, "
          f"{stored:,} stored)")
    print(f"earful ingest again:      {rerun_s:6.2f} s  (upsert, nothing new)")
    print(f"ratio ingest / VADER:     {ingest_s / vader_s:6.2f}  (target <= 0.60)")
    scaling = vader_s / two_s
    print(f"earful detection, 1 core: {detection_s:6.2f} s  (language, sentiment, complaint: "
          f"{detection_s / vader_s:.2f} of VADER)")
    print(f"raw VADER, 2 processes:   {two_s:6.2f} s  ({scaling:.2f}x one core)")
    print(f"ratio if only detection cost time, on both cores: "
          f"{detection_s / scaling / vader_s:.2f}")


if __name__ == "__main__":
    main()
