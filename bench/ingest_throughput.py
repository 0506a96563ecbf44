"""Benchmark: `earful ingest` on 50k tweet-length mentions against raw single-core VADER.

Prints both figures, measured in the same run, and their ratio (target: ingest time /
VADER time <= 0.6). Run: `make bench` or `.venv/bin/python bench/ingest_throughput.py`.
"""

from __future__ import annotations

import argparse
import json
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


if __name__ == "__main__":
    main()
