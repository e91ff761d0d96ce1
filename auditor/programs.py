"""Where the auditor finds the programs it runs (git, Trivy, npm, helm, kubectl): on the user's
PATH, absolute entries only. A relative entry (``.``, empty, ``bin``) names a folder of the
working directory, which in CI is the checkout under audit, so a program found there could be
the audited tree's own."""
from __future__ import annotations

import os
import shutil


def absolute_path_entries() -> str:
    """PATH without its relative entries."""
    entries = os.environ.get("PATH", os.defpath).split(os.pathsep)
    return os.pathsep.join(entry for entry in entries if entry and os.path.isabs(entry))


def find_program(name: str) -> str | None:
    """The absolute path of ``name`` on the absolute entries of PATH, or None."""
    return shutil.which(name, path=absolute_path_entries())
