"""Helm charts: rendered with Helm's own engine, boxed, then audited like manifests.

A chart is a folder with ``Chart.yaml``. It is rendered with its ``values.yaml`` and, once more
for each values file the configuration names inside it (``helm: {values: [...]}``), with that
file on top: each render is its own deployment in the model.

Renderers, in order: a ``helm`` binary on PATH (``helm template``), else the ``helm-python-sdk``
package (``pip install 'auditor[helm]'``), which embeds Helm v4's engine as a native library.
Both run in a boxed child process (``parsers/render.py``) on a private copy of the chart that
holds its regular files only: Helm's loader follows symbolic links, and a link to ``/etc`` would
otherwise put the machine's files into ``.Files``. Helm itself gives templates no ``env``, no
``exec``, an empty ``lookup`` offline and no DNS (``getHostByName`` returns "").

Findings go to the template file (``# Source:`` of ``helm template``, the output key of the
SDK) at the line where the rendered key is written in the template, when it can be found there.
"""
from __future__ import annotations

import json
import os
import posixpath
import shutil
import sys
import tempfile
TYPE_CHECKING = False  # typing's constant (mypy takes it as True) without importing typing
if TYPE_CHECKING:  # mypy sees the standard decorator; auditor.record builds the same classes cheaper
    from dataclasses import dataclass, field
else:
    from auditor.record import dataclass, field
from pathlib import Path

from auditor.parsers.render import Limits, RenderError, program, run_boxed
from auditor.parsers.renderable import CHART_FILE

MAX_CHART_FILES = 5_000
MAX_CHART_BYTES = 50 * 1024 * 1024
RELEASE = "release-name"
NAMESPACE = "default"
INSTALL_HINT = ("install a renderer: `pip install 'auditor[helm]'` (Helm's engine, no binary "
                "needed) or a `helm` binary on PATH (https://helm.sh/docs/intro/install/)")

# Runs in the child: loads the staged chart with the SDK and prints {template path: text}.
_SDK_CHILD = r"""
import json, sys
import helm_python as helm

def merge(base, top):
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            merge(base[key], value)
        else:
            base[key] = value
    return base

chart_dir, release, namespace, *values_files = sys.argv[1:]
overrides = {}
for name in values_files:
    with open(name, encoding="utf-8") as handle:
        merge(overrides, helm.values_from_yaml(handle.read()) or {})
try:
    with helm.Chart.load(chart_dir) as chart:
        # as `helm template` does: a declared dependency missing from charts/ stops the render
        # (the SDK would render without it, and the subchart's objects would go unchecked)
        declared = [d.get("name") for d in chart.metadata.get("dependencies") or [] if isinstance(d, dict)]
        loaded = {d.get("name") for d in chart.dependencies}
        missing = [name for name in declared if name not in loaded]
        if missing:
            sys.stderr.write("dependencies declared in Chart.yaml are missing from charts/: "
                             + ", ".join(map(str, missing)) + " (run `helm dependency build` to vendor them)\n")
            sys.exit(4)
        rendered = chart.render(overrides, name=release, namespace=namespace, is_install=True)
except helm.HelmError as exc:
    sys.stderr.write(str(exc) + "\n")
    sys.exit(3)
sys.stdout.write(json.dumps(rendered))
"""


@dataclass
class ChartRender:
    """One render of one chart: ``sections`` are (template path in the tree, rendered text)."""

    chart: str                  # the chart folder, relative to the scan root ('' = the root)
    values: tuple[str, ...]     # the values files applied on top of values.yaml (tree paths)
    renderer: str = ""
    sections: list[tuple[str, str]] = field(default_factory=list)
    error: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        where = self.chart or "."
        extra = f" with {', '.join(self.values)}" if self.values else ""
        return f"Helm chart {where}{extra}"


def find_charts(yaml_paths: list[str] | tuple[str, ...]) -> list[str]:
    """Chart folders (relative; '' is the root), subcharts under a chart's ``charts/`` left to
    their parent, which renders them."""
    charts = sorted({posixpath.dirname(p) for p in yaml_paths if posixpath.basename(p) == CHART_FILE})
    top = []
    for chart in charts:
        if not any(_inside(chart, parent) and chart != parent for parent in charts):
            top.append(chart)
    return top


def _inside(path: str, folder: str) -> bool:
    return folder == "" or path == folder or path.startswith(folder + "/")


def chart_of(path: str, charts: list[str]) -> str | None:
    """The chart folder ``path`` belongs to (the deepest one), or None."""
    owners = [c for c in charts if _inside(path, c)]
    return max(owners, key=len) if owners else None


def is_chart_template(path: str, charts: list[str]) -> bool:
    """A file under a chart's (or subchart's) ``templates/`` folder."""
    chart = chart_of(path, charts)
    if chart is None:
        return False
    rest = path[len(chart) + 1:] if chart else path
    return "templates" in rest.split("/")[:-1]


def renderer_available() -> str | None:
    """'helm' (a binary on PATH), 'helm-python-sdk' (the package importable here), or None."""
    if program("helm"):
        return "helm"
    try:
        import importlib.util
        if importlib.util.find_spec("helm_python") is not None:
            return "helm-python-sdk"
    except (ImportError, ValueError):
        pass
    return None


def stage_chart(source: Path, destination: Path) -> list[str]:
    """Copy the chart's regular files (no links, nothing special) into ``destination``; returns
    notes on what was left out. ``RenderError`` when the chart is too large to render."""
    notes: list[str] = []
    count = size = 0
    for folder, dirs, files in os.walk(source, followlinks=False):
        relative = os.path.relpath(folder, source)
        target = destination / relative if relative != "." else destination
        target.mkdir(parents=True, exist_ok=True)
        for name in list(dirs):
            if os.path.islink(os.path.join(folder, name)):
                dirs.remove(name)
                notes.append(f"{posixpath.join(relative, name) if relative != '.' else name}: a symbolic link; left out of the render")
        for name in files:
            path = os.path.join(folder, name)
            shown = name if relative == "." else posixpath.join(relative.replace(os.sep, "/"), name)
            try:
                info = os.lstat(path)
            except OSError:
                continue
            if os.path.islink(path):
                notes.append(f"{shown}: a symbolic link; left out of the render")
                continue
            if not os.path.isfile(path):
                notes.append(f"{shown}: not a regular file; left out of the render")
                continue
            count += 1
            size += info.st_size
            if count > MAX_CHART_FILES or size > MAX_CHART_BYTES:
                raise RenderError(f"the chart has more than {MAX_CHART_FILES} files or "
                                  f"{MAX_CHART_BYTES // (1024 * 1024)} MiB; not rendered")
            shutil.copyfile(path, target / name, follow_symlinks=False)
    return notes


def render_chart(root: Path, chart: str, values: tuple[str, ...] = (), limits: Limits | None = None,
                 renderer: str | None = None) -> ChartRender:
    """Render ``chart`` (a folder relative to ``root``) with ``values`` files on top of its
    values.yaml. Never raises: a failure is ``.error``."""
    limits = limits or Limits()
    result = ChartRender(chart, tuple(values))
    renderer = renderer or renderer_available()
    if renderer is None:
        result.error = f"no Helm renderer is available; {INSTALL_HINT}"
        return result
    result.renderer = renderer
    with tempfile.TemporaryDirectory(prefix="auditor-chart-") as work:
        staged = Path(work) / "chart"
        try:
            result.notes = stage_chart(root / chart if chart else root, staged)
            staged_values = []
            for index, relative in enumerate(values):
                target = Path(work) / f"values-{index}.yaml"
                source = root / relative
                real_root = os.path.realpath(root)
                if source.is_symlink() or not source.is_file() or \
                        not os.path.realpath(source).startswith(real_root + os.sep):
                    raise RenderError(f"values file {relative} is not a regular file in the tree")
                shutil.copyfile(source, target)
                staged_values.append(str(target))
            if renderer == "helm":
                argv = [program("helm") or "helm", "template", RELEASE, str(staged), "--namespace", NAMESPACE]
                for name in staged_values:
                    argv += ["--values", name]
                output = run_boxed(argv, limits)
                sections = split_sources(output)
            else:
                argv = [sys.executable, "-I", "-c", _SDK_CHILD, str(staged), RELEASE, NAMESPACE, *staged_values]
                output = run_boxed(argv, limits)
                try:
                    rendered = json.loads(output)
                except ValueError as exc:
                    raise RenderError(f"the Helm SDK printed no result ({exc})") from exc
                sections = [(name, text) for name, text in sorted(rendered.items())
                             if isinstance(text, str)]
        except RenderError as exc:
            result.error = str(exc)
            return result
        except OSError as exc:
            result.error = f"the chart could not be copied for rendering: {exc.strerror or exc}"
            return result
    for name, text in sections:
        if name.endswith("NOTES.txt") or not text.strip():
            continue
        result.sections.append((_tree_path(chart, name), text))
    return result


def _tree_path(chart: str, source: str) -> str:
    """``mychart/templates/x.yaml`` (Helm names files from the chart's name) -> the file in the
    tree, whatever the chart's folder is called."""
    rest = source.split("/", 1)[1] if "/" in source else source
    return posixpath.join(chart, rest) if chart else rest


def split_sources(stream: str) -> list[tuple[str, str]]:
    """``helm template`` output -> [(source, text)], one entry per ``# Source:`` document."""
    sections: list[tuple[str, str]] = []
    current: str | None = None
    lines: list[str] = []
    for line in stream.splitlines(keepends=True):
        if line.rstrip() == "---":
            if current is not None:
                sections.append((current, "".join(lines)))
            current, lines = None, []
            continue
        if current is None and line.startswith("# Source: "):
            current = line[len("# Source: "):].strip()
            lines = ["\n"]  # keep the line count of the document: the comment is line 1
            continue
        lines.append(line)
    if current is not None:
        sections.append((current, "".join(lines)))
    return sections
