"""CPU time of nginx parsing: crossplane's own lexer against auditor's (parsers/nginx_lexer.py).

    python benchmarks/bench_nginx.py /tmp/auditor-bench/corpus-1000-seed7 [--rounds 3]

Over every ``*.conf`` file under the folder, interleaved A B A B in the same process (CPU time,
``time.process_time``): lexing alone (``crossplane.lexer.lex`` vs ``nginx_lexer.lex``),
``crossplane.parse`` vs ``nginx_lexer.parse`` with the options ``parse_nginx`` uses, and
``parse_nginx`` of each project folder with crossplane's parse or ours. It also checks that both
lexers give the same tokens and both parses the same payloads (it exits 1 otherwise). It prints
figures; it asserts nothing about time.
"""
from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

OPTIONS: dict[str, Any] = dict(single=True, comments=True, catch_errors=True, check_ctx=False,
                               check_args=False)


def _cpu(work: Callable[[], object]) -> float:
    started = time.process_time()
    work()
    return time.process_time() - started


def main(argv: list[str] | None = None) -> int:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("root", type=Path)
    options.add_argument("--rounds", type=int, default=3)
    args = options.parse_args(argv)

    import crossplane
    import crossplane.lexer

    from auditor.parsers import nginx, nginx_lexer

    files = sorted(str(p) for p in args.root.rglob("*.conf") if p.is_file())
    projects: dict[Path, list[str]] = {}
    for name in files:
        folder = Path(name).relative_to(args.root).parts[0]
        projects.setdefault(args.root / folder, []).append(
            str(Path(name).relative_to(args.root / folder)))
    print(f"{len(files)} nginx files, {sum(Path(f).stat().st_size for f in files):,} bytes, "
          f"{len(projects)} project folders")

    def outcome(lex: Callable[[str], Any], name: str) -> list[Any]:
        tokens: list[Any] = []
        try:
            tokens.extend(lex(name))
        except crossplane.errors.NgxParserSyntaxError as error:
            tokens.append((type(error).__name__, str(error), error.lineno))
        return tokens

    different = [f for f in files if outcome(crossplane.lexer.lex, f) != outcome(nginx_lexer.lex, f)]
    different += [f for f in files if crossplane.parse(f, **OPTIONS) != nginx_lexer.parse(f, **OPTIONS)]
    print(f"files whose tokens or payload differ: {len(different)}", *different[:5])

    def lex_all(lex: Callable[[str], Any]) -> Callable[[], object]:
        return lambda: [outcome(lex, f) for f in files] and None

    def parse_all(parse: Callable[..., Any]) -> Callable[[], object]:
        return lambda: [parse(f, **OPTIONS) for f in files] and None

    def parse_nginx_all(parser: Callable[[], Callable[..., Any]]) -> Callable[[], None]:
        def run() -> None:
            saved = nginx_lexer.parser
            nginx_lexer.parser = parser  # what nginx.py imports per call
            try:
                for folder, paths in projects.items():
                    nginx.parse_nginx(folder, paths)
            finally:
                nginx_lexer.parser = saved
        return run

    pairs = {
        "lex": (lex_all(crossplane.lexer.lex), lex_all(nginx_lexer.lex)),
        "crossplane.parse": (parse_all(crossplane.parse), parse_all(nginx_lexer.parse)),
        "parse_nginx": (parse_nginx_all(lambda: crossplane.parse), parse_nginx_all(nginx_lexer.parser)),
    }
    for name, (theirs, ours) in pairs.items():
        a: list[float] = []
        b: list[float] = []
        for _ in range(args.rounds):
            a.append(_cpu(theirs))
            b.append(_cpu(ours))
        print(f"{name:18s} crossplane lexer {min(a):6.3f} s   ours {min(b):6.3f} s   "
              f"ratio {min(b) / min(a):.3f}   (min of {args.rounds}, CPU; all: "
              f"{' '.join(f'{x:.3f}' for x in a)} | {' '.join(f'{x:.3f}' for x in b)})")
    return 1 if different else 0


if __name__ == "__main__":
    sys.exit(main())
