"""``auditor baseline create``: write today's findings' fingerprints to a file."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from auditor.cli import UsageError


def run(args: argparse.Namespace) -> int:
    from auditor.baseline import write_baseline
    from auditor.commands.scan import prepare

    result, _ = prepare(args)
    target = Path(args.output)
    try:
        count = write_baseline(result.findings, target)
    except OSError as exc:
        raise UsageError(f"cannot write {target}: {exc.strerror}") from exc
    sys.stderr.write(f"auditor: baseline of {count} finding(s) written to {target}\n")
    return 0
