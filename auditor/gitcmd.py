"""Every git call the auditor makes on an audited tree, in a box.

The tree is hostile, and so is its ``.git``: its ``config`` can name programs that git runs on
its own (``core.fsmonitor`` on every index read, ``filter.<driver>.clean`` when a worktree file
is hashed, ``diff.external``/``diff.<driver>.textconv`` for a patch, ``core.hooksPath``, a pager,
``core.sshCommand`` for a lazy fetch of a partial clone...). Each call therefore:

- overrides on the command line every program-running key that the commands we run could reach
  (``-c`` beats the repository's own config), including a blank for every ``filter.<driver>``
  the configuration defines (their names are chosen by the tree, so they are read first);
- uses plumbing (``diff-index``, ``ls-files``, ``rev-parse``) with ``--no-ext-diff
  --no-textconv --no-renames --ignore-submodules``, so nothing needs a file's content piped
  through a program, and no submodule's own git (with its own config) is started;
- runs with ``GIT_CONFIG_NOSYSTEM=1``, no pager, no prompt, no optional locks (git writes
  nothing into the tree's ``.git``), every transport forbidden (``protocol.allow=never``);
- never passes a user-given string where git could read it as an option: a ref is refused when
  it starts with ``-`` (a usage error, before git runs), then verified as a commit behind
  ``--end-of-options``, and only the commit id it resolves to is passed on.

The user's global configuration (``~/.gitconfig``) stays in force: it is theirs, not the tree's.
The git binary is the one on the user's PATH (absolute entries only: never one in the tree).
"""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

from auditor.cli import UsageError

TIMEOUT_SECONDS = 30.0

# Program-running (or tree-writing) keys, pinned for every call. Empty values switch a
# helper list off; ``false`` switches fsmonitor off; /dev/null is a hooks folder with no hooks.
HARDENED_CONFIG: tuple[tuple[str, str], ...] = (
    ("core.fsmonitor", "false"),
    ("core.hooksPath", "/dev/null"),
    ("core.pager", "cat"),
    ("core.editor", "false"),
    ("sequence.editor", "false"),
    ("core.askPass", ""),
    ("core.sshCommand", "false"),
    ("core.gitProxy", "none"),
    ("core.untrackedCache", "false"),
    ("credential.helper", ""),
    ("protocol.allow", "never"),
    ("submodule.recurse", "false"),
    ("diff.external", ""),
    ("gpg.program", "false"),
    ("log.showSignature", "false"),
    ("gc.auto", "0"),
    ("maintenance.auto", "false"),
    ("fetch.recurseSubmodules", "false"),
)
# Passed by environment: they concern git itself, not the repository.
HARDENED_ENV = {
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_PAGER": "cat",
    "PAGER": "cat",
    "GIT_OPTIONAL_LOCKS": "0",
    "GIT_PROTOCOL_FROM_USER": "0",
    "GIT_ASKPASS": "",
    "SSH_ASKPASS": "",
}
# Environment a caller may have set that would point git at another repository or program.
_DROPPED_ENV = ("GIT_EXTERNAL_DIFF", "GIT_DIFF_OPTS", "GIT_SSH", "GIT_SSH_COMMAND", "GIT_EDITOR",
                "GIT_SEQUENCE_EDITOR", "GIT_PROXY_COMMAND", "GIT_CONFIG_PARAMETERS",
                "GIT_CONFIG_COUNT")


def git_binary() -> str | None:
    """``git`` on the user's PATH, looked up in absolute PATH entries only (a relative entry
    would be resolved against the working directory, which may be the audited checkout)."""
    from auditor.programs import find_program

    return find_program("git")


def _environment() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items()
           if key not in _DROPPED_ENV and not key.startswith("GIT_CONFIG_KEY_")
           and not key.startswith("GIT_CONFIG_VALUE_")}
    env.update(HARDENED_ENV)
    return env


def _config_flags() -> list[str]:
    flags: list[str] = []
    for key, value in HARDENED_CONFIG:
        flags += ["-c", f"{key}={value}"]
    return flags


def _raw(args: list[str], cwd: Path, extra: tuple[tuple[str, str], ...] = ()) -> str | None:
    """stdout of ``git [hardened flags] ARGS`` in ``cwd``; None when git is missing or fails.
    ``extra`` settings go through GIT_CONFIG_KEY_n/GIT_CONFIG_VALUE_n (same precedence as
    ``-c``), which take any key: a tree-chosen driver name may hold ``=``, which ``-c`` cannot."""
    binary = git_binary()
    if binary is None:
        return None
    env = _environment()
    if extra:
        env["GIT_CONFIG_COUNT"] = str(len(extra))
        for index, (key, value) in enumerate(extra):
            env[f"GIT_CONFIG_KEY_{index}"] = key
            env[f"GIT_CONFIG_VALUE_{index}"] = value
    try:
        done = subprocess.run(
            [binary, "--no-pager", *_config_flags(), *args], cwd=cwd, env=env,
            stdin=subprocess.DEVNULL, capture_output=True, timeout=TIMEOUT_SECONDS,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    return done.stdout.decode("utf-8", errors="surrogateescape")


def _filter_blanks(cwd: Path) -> tuple[tuple[str, str], ...]:
    """``filter.<driver>.{clean,smudge,process}`` blanked for every driver the repository's
    configuration (includes too) defines: the driver names are the tree's choice, so they
    cannot be listed in advance. Reading configuration runs nothing."""
    listing = _raw(["config", "--null", "--name-only", "--get-regexp", r"^filter\."], cwd)
    drivers: set[str] = set()
    for name in (listing or "").split("\0"):
        head, _, rest = name.partition(".")
        driver, _, _ = rest.rpartition(".")
        if head.lower() == "filter" and driver and "\n" not in driver:
            drivers.add(driver)
    return tuple((f"filter.{driver}.{key}", "") for driver in sorted(drivers)
                 for key in ("clean", "smudge", "process"))


def git(args: list[str], cwd: Path) -> str | None:
    """Run one hardened git command in ``cwd``; its stdout, or None when it failed."""
    return _raw(args, cwd, _filter_blanks(cwd))


def show_toplevel(cwd: Path) -> Path | None:
    """The top of the work tree ``cwd`` is in, or None. A top that does not contain ``cwd`` or
    has no ``.git`` of its own (``core.worktree`` in a hostile config can name ``/``) is refused:
    the scan root must never be widened beyond the tree by the tree's own configuration."""
    text = git(["rev-parse", "--show-toplevel"], cwd)
    if not text or not text.strip():
        return None
    top = Path(text.strip())
    try:
        inside = cwd.resolve().is_relative_to(top.resolve())
    except OSError:
        return None
    if not inside or not (top / ".git").exists():
        return None
    return top


def check_ref(ref: str) -> None:
    """A ref that git could read as an option is a usage error, before git ever sees it."""
    if not ref or ref.startswith("-") or "\0" in ref:
        raise UsageError(f"--diff-base {ref!r}: not a git ref (a ref cannot start with '-')")


def verify_commit(root: Path, ref: str) -> str:
    """The full commit id ``ref`` names in the repository of ``root``; a usage error otherwise."""
    check_ref(ref)
    text = git(["rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}"], root)
    commit = (text or "").strip()
    if not commit or not all(c in "0123456789abcdef" for c in commit) or len(commit) not in (40, 64):
        raise UsageError(f"--diff-base {ref}: not a commit in the git repository at {root} "
                         "(is it a git repository with that ref?)")
    return commit


def changed_since(root: Path, base: str) -> set[str]:
    """Files under ``root`` added, copied, modified or retyped since ``base`` (committed, staged
    or in the worktree), and untracked files git does not ignore; relative to ``root``."""
    commit = verify_commit(root, base)
    top = show_toplevel(root)
    if top is None:
        raise UsageError(f"--diff-base {base}: {root} is not inside the work tree of its git "
                         "repository")
    changed = git(["diff-index", "--name-only", "-z", "--no-renames", "--no-ext-diff",
                   "--no-textconv", "--ignore-submodules=all", "--diff-filter=ACMT",
                   "--end-of-options", commit, "--", "."], root)
    if changed is None:
        raise UsageError(f"--diff-base {base}: `git diff-index` failed in {root}")
    untracked = git(["ls-files", "-z", "--others", "--exclude-standard", "--full-name",
                     "--", "."], root) or ""
    prefix = (git(["rev-parse", "--show-prefix"], root) or "").strip()
    names = [name for name in (changed + untracked).split("\0") if name]
    # Both listings are relative to the repository top; make them relative to the scan root.
    return {name[len(prefix):] if prefix and name.startswith(prefix) else name for name in names}
