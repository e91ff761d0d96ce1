"""What marks a Helm chart or a Kustomize overlay among a tree's YAML files: their names alone,
so that a tree with neither (most) never imports the parsers and renderers of either."""
from __future__ import annotations

import posixpath
from collections.abc import Iterable

CHART_FILE = "Chart.yaml"
KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")


def any_renderable(yaml_paths: Iterable[str]) -> bool:
    """Whether some file is a chart's ``Chart.yaml`` or a kustomization."""
    return any(posixpath.basename(path) in (CHART_FILE, *KUSTOMIZATION_NAMES) for path in yaml_paths)


__all__ = ["CHART_FILE", "KUSTOMIZATION_NAMES", "any_renderable"]
