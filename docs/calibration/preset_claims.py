"""How often each claim of a Playground race holds over seeds (agmcore.analysis.race_claims): the numbers the
Home presets' captions state and tests/test_presets.py checks.

    PYTHONPATH=. python docs/calibration/preset_claims.py --seeds 0-9
    PYTHONPATH=. python docs/calibration/preset_claims.py --preset "Adam vs SGD on sparse regression" --seeds 0-19
    PYTHONPATH=. python docs/calibration/preset_claims.py --settings '{"pg_samples": 15}' --seeds 0-9
"""
from __future__ import annotations

import argparse
import json
import time

from agmcore.analysis.race_claims import CLAIMS, fractions_over_seeds, wilson_interval
from agmcore.engine.results import to_document
from agmcore.engine.runner import run_all
from agmcore.presentation.playground import build_race
from agmcore.presentation.presets import PRESETS


def seeds_of(text: str):
    if "-" in text:
        first, last = map(int, text.split("-"))
        return list(range(first, last + 1))
    return [int(s) for s in text.split(",")]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", help="a Home preset's name (else the Playground defaults)")
    parser.add_argument("--settings", default="{}", help="Playground settings (JSON) over the preset or defaults")
    parser.add_argument("--seeds", default="0-9")
    args = parser.parse_args()
    settings = {**(PRESETS[args.preset] if args.preset else {}), **json.loads(args.settings)}
    start = time.perf_counter()

    def race(seed):
        return [to_document(r) for r in run_all(build_race({**settings, "pg_seed": seed}))]

    seeds = seeds_of(args.seeds)
    held = fractions_over_seeds(race, seeds)
    print(f"{args.preset or 'Playground defaults'} {json.loads(args.settings) or ''}, seeds {args.seeds} "
          f"({time.perf_counter() - start:.1f} s)")
    for claim, values in held.items():
        low, high = wilson_interval(sum(values), len(values))
        failed = [s for s, v in zip(seeds, values) if not v]
        print(f"  {CLAIMS[claim]:45s} {sum(values)}/{len(values)}  95 % CI [{low:.2f}, {high:.2f}]  failed on {failed}")


if __name__ == "__main__":
    main()
