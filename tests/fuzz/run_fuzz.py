"""The long fuzz run: mutate the fixtures for each parser for a while and report the figures.

    python tests/fuzz/run_fuzz.py --seconds 300            # split evenly across the parsers
    python tests/fuzz/run_fuzz.py --seconds 60 --only nginx --crashes /tmp/crashes

Prints, per parser: inputs tried, distinct crashes (exception type and the innermost auditor
frame), hangs (inputs that ran past --hang seconds, stopped by the time budget), and the slowest
input with its time. Crashing inputs are written to --crashes when given. Exit code 1 if any
crash or hang was found. Not part of the regular suite (tests/fuzz/test_properties.py is).
"""
from __future__ import annotations

import argparse
import hashlib
import random
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from auditor.parsers.limits import ParseTimeout, time_budget  # noqa: E402
from tests.fuzz.targets import STRUCTURED, TARGETS, TOKENS, mutate, seeds, structured_variant  # noqa: E402


def _operations(rng: random.Random) -> list[tuple[int, float, float, bytes]]:
    count = rng.randint(1, 8)
    return [(rng.randint(0, 5), rng.random(), rng.random() ** 3,
             rng.choice(TOKENS) if rng.random() < 0.5 else rng.randbytes(rng.randint(0, 16)))
            for _ in range(count)]


def _crash_site(error: BaseException) -> str:
    frames = [f for f in traceback.extract_tb(error.__traceback__) if "/auditor/" in f.filename]
    where = f"{Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else "?"
    return f"{type(error).__name__} at {where}: {str(error)[:120]}"


def fuzz(target: str, seconds: float, hang: float, rng: random.Random, corpus: list[bytes],
         crash_dir: Path | None) -> dict[str, object]:
    function = TARGETS[target]
    pool = list(corpus)
    tried, parsed, crashes, hangs = 0, 0, {}, 0
    slowest, slowest_input = 0.0, b""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        data = None
        if target in STRUCTURED and rng.random() < 0.5:
            data = structured_variant(rng.choice(corpus), rng, as_json=STRUCTURED[target])
        if data is None:
            data = mutate(rng.choice(pool), _operations(rng))
        if rng.random() < 0.05:  # sometimes splice two seeds
            data += rng.choice(pool)
        tried += 1
        started = time.perf_counter()
        try:
            with time_budget(hang):
                parsed += bool(function(data))
        except ParseTimeout:
            hangs += 1
            crashes.setdefault(f"hang over {hang:g} s", data)
        except Exception as error:  # noqa: BLE001 - every escape is a finding of the fuzzer
            crashes.setdefault(_crash_site(error), data)
        elapsed = time.perf_counter() - started
        if elapsed > slowest:
            slowest, slowest_input = elapsed, data
        if tried % 50 == 0 and len(pool) < 2000 and len(data) > 64:
            pool.append(data)  # grow the pool: mutations of mutations go deeper
    if crash_dir is not None:
        crash_dir.mkdir(parents=True, exist_ok=True)
        for site, data in crashes.items():
            name = f"{target}-{hashlib.sha256(data).hexdigest()[:12]}.bin"
            (crash_dir / name).write_bytes(data)
            (crash_dir / (name + ".txt")).write_text(site + "\n")
    return {"target": target, "inputs": tried, "parsed": parsed, "crashes": crashes, "hangs": hangs,
            "slowest": slowest, "slowest_input": slowest_input}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=300, help="total time, split across parsers")
    parser.add_argument("--only", action="append", choices=sorted(TARGETS), help="fuzz only these")
    parser.add_argument("--hang", type=float, default=10, help="seconds after which an input is a hang")
    parser.add_argument("--seed", type=int, default=20261125)
    parser.add_argument("--crashes", type=Path, help="folder to write crashing inputs to")
    args = parser.parse_args(argv)
    targets = args.only or sorted(TARGETS)
    corpus = seeds()
    rng = random.Random(args.seed)
    results = [fuzz(t, args.seconds / len(targets), args.hang, rng, corpus[t], args.crashes) for t in targets]
    print(f"{'parser':<14}{'inputs':>9}{'modelled':>9}{'crashes':>9}{'hangs':>7}{'slowest':>10}  slowest input (head)")
    for r in results:
        head = repr(r["slowest_input"][:50])  # type: ignore[index]
        share = f"{100 * r['parsed'] / max(r['inputs'], 1):.0f}%"  # type: ignore[operator, call-overload]
        print(f"{r['target']:<14}{r['inputs']:>9}{share:>9}{len(r['crashes']):>9}{r['hangs']:>7}"  # type: ignore[arg-type]
              f"{r['slowest'] * 1000:>8.0f}ms  {len(r['slowest_input']):,} bytes {head}")  # type: ignore[arg-type, operator]
    for r in results:
        for site in r["crashes"]:  # type: ignore[attr-defined]
            print(f"CRASH {r['target']}: {site}")
    return 1 if any(r["crashes"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
