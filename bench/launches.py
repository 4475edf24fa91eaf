#!/usr/bin/env python3
"""Benchmark: launch detection and name extraction (digest.launches.judge) on labelled entries.

    .venv/bin/python bench/launches.py [--split held-out|tune|all] [--show-misses]

The labelled entries are in bench/data/: launches-heldout.toml (measured, never tuned on) and
launches-tune.toml (what the rules were written against). Prints the confusion matrix of the
decision "AI tool launch" and the figures, by default on the held-out part:

* precision and recall of "AI tool launch"          targets >= 0.9 each
* exact names, of the true launches                 target  >= 0.9
* a category, on the true launches                  target  >= 0.8
  (and how often it is the labelled one, for information)

Exits 1 when a target is missed. `--show-misses` lists the wrong decisions and names; use it
on the tuning part only, or the held-out part stops being held out.
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from digest.launches import judge  # noqa: E402

DATA = ROOT / "bench" / "data"
FILES = {"held-out": ["launches-heldout.toml"], "tune": ["launches-tune.toml"],
         "all": ["launches-tune.toml", "launches-heldout.toml"]}
TARGETS = {"precision": 0.9, "recall": 0.9, "names": 0.9, "categories": 0.8}


def load(split: str) -> list[dict]:
    """The labelled entries of a split, each with its feed's kind and vendor hint."""
    entries = []
    for filename in FILES[split]:
        data = tomllib.loads((DATA / filename).read_text(encoding="utf-8"))
        for entry in data["entry"]:
            feed = data["feeds"][entry["feed"]]
            entries.append({**entry, "kind": feed.get("kind", "mixed"), "vendor_hint": feed.get("vendor")})
    return entries


def measure(entries: list[dict]) -> dict:
    """Confusion counts and figures of judge() over labelled entries."""
    tp = fp = fn = tn = names = categories = labelled_right = 0
    misses = []
    for entry in entries:
        got = judge(entry["title"], entry.get("summary", ""), kind=entry["kind"], vendor_hint=entry["vendor_hint"])
        truth = entry["launch"]
        if got.launch and truth:
            tp += 1
        elif got.launch:
            fp += 1
        elif truth:
            fn += 1
        else:
            tn += 1
        if got.launch != truth:
            misses.append(f"decision {'launch' if got.launch else 'not'} ({got.reason}): {entry['title']}")
        if truth:
            names += got.name == entry["name"]
            if got.name != entry["name"]:
                misses.append(f"name {got.name!r} != {entry['name']!r}: {entry['title']}")
            categories += got.category is not None
            labelled_right += got.category == entry.get("category")
    launches = tp + fn
    return {"tp": tp, "fp": fp, "fn": fn, "tn": tn, "entries": len(entries), "launches": launches,
            "precision": tp / (tp + fp) if tp + fp else 0.0, "recall": tp / launches if launches else 0.0,
            "names": names / launches if launches else 0.0,
            "categories": categories / launches if launches else 0.0,
            "labelled_category": labelled_right / launches if launches else 0.0, "misses": misses}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", choices=sorted(FILES), default="held-out")
    parser.add_argument("--show-misses", action="store_true", help="list wrong decisions and names")
    args = parser.parse_args()
    result = measure(load(args.split))
    print(f"launch detection on the {args.split} entries: {result['entries']} entries, "
          f"{result['launches']} AI tool launches")
    print()
    print("                      judged launch   judged not")
    print(f"  AI tool launch      {result['tp']:>13}   {result['fn']:>10}")
    print(f"  anything else       {result['fp']:>13}   {result['tn']:>10}")
    print()
    failed = False
    for key, label in (("precision", "precision of 'AI tool launch'"), ("recall", "recall of 'AI tool launch'"),
                       ("names", "exact names, of true launches"), ("categories", "a category, on true launches")):
        ok = result[key] >= TARGETS[key]
        failed |= not ok
        print(f"  {'ok  ' if ok else 'MISS'} {label:<34} {result[key]:.2f}   (target >= {TARGETS[key]})")
    print(f"       {'the labelled category':<34} {result['labelled_category']:.2f}   (for information)")
    if args.show_misses:
        print()
        print("\n".join(result["misses"]) or "no misses")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
