"""nginx configuration where it really lives, and where each container sees it.

- **Embedded texts**: a ConfigMap ``data`` key (``default.conf: |``) or a Compose top-level
  ``configs: {name: {content: |}}`` whose text is nginx configuration is parsed as nginx, with
  positions inside the YAML file (a literal block's line N is the line after the key plus N-1;
  any other scalar style puts every directive on the key's line).
- **The mount table** (``Mount``): what each image and container copies or mounts where:
  Dockerfile ``COPY``/``ADD`` into ``/etc/nginx``, Compose bind volumes and ``configs:``, and
  Kubernetes ``volumeMounts`` of ConfigMaps. The nginx parser resolves an absolute ``include``
  (``include /etc/nginx/conf.d/proxy.conf;``) through it to the file of the tree (or the
  embedded text) that is there at run time.
"""
from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterable
TYPE_CHECKING = False  # typing's constant (mypy takes it as True) without importing typing
if TYPE_CHECKING:  # mypy sees the standard decorator; auditor.record builds the same classes cheaper
    from dataclasses import dataclass
    from typing import Any
else:
    from auditor.record import dataclass

from auditor.model.yaml import YMap
from auditor.patterns import on_first_use

_NGINX_BLOCK = on_first_use(r"^\s*(server|http|location|upstream|events|map)\b[^;{]*\{", re.M)
_NGINX_DIRECTIVE = on_first_use(r"^\s*(listen|server_name|proxy_pass|add_header|ssl_certificate|root|"
                              r"return|include|gzip|limit_req|client_max_body_size)\s[^;]*;", re.M)


@dataclass(frozen=True)
class Mount:
    """One row of the table: ``container_path`` (absolute, in the image or container) holds
    ``source`` (a tree file or folder, or an embedded text id); ``via`` says which file set it."""

    workload: str
    container_path: str
    source: str
    via: str


def looks_like_nginx(name: str, text: str) -> bool:
    """A ``*.conf`` key (or ``*.conf.template``) whose text has nginx blocks or directives."""
    if not name.endswith((".conf", ".conf.template")):
        return False
    return bool(_NGINX_BLOCK.search(text) or _NGINX_DIRECTIVE.search(text))


def embedded_id(holder: str, owner: str, key: str) -> str:
    return f"{holder}::{owner}/{key}"


def _placed(mapping: YMap, key: Any, text_of: Callable[[str], str]) -> tuple[int, bool]:
    """(the holder line of the text's first line, whether its lines follow one another)."""
    span = mapping.value_span(key)
    lines = text_of(span.path).splitlines()
    written = lines[span.line - 1] if 0 < span.line <= len(lines) else ""
    after_key = written.split(":", 1)[1] if ":" in written else written
    literal = after_key.strip().startswith("|")
    return (span.line + 1, True) if literal else (span.line, False)


def from_configmaps(objects: Iterable[Any], text_of: Callable[[str], str]
                    ) -> dict[str, tuple[str, str, int, bool]]:
    """Embedded nginx texts of ConfigMaps: id -> (text, holder file, first line, literal)."""
    found: dict[str, tuple[str, str, int, bool]] = {}
    for obj in objects:
        if obj.kind != "ConfigMap":
            continue
        data = obj.raw.get("data")
        if not isinstance(data, YMap):
            continue
        for key, value in data.items():
            if isinstance(value, str) and looks_like_nginx(str(key), value):
                first, literal = _placed(data, key, text_of)
                found[embedded_id(obj.span.path, obj.name, str(key))] = (value, obj.span.path, first, literal)
    return found


def from_compose(compose_files: Iterable[Any], text_of: Callable[[str], str]
                 ) -> dict[str, tuple[str, str, int, bool]]:
    """Compose top-level ``configs:`` with ``content:`` that is nginx configuration."""
    found: dict[str, tuple[str, str, int, bool]] = {}
    for compose in compose_files:
        for name, body in compose.section("configs").items():
            content = body.get("content") if isinstance(body, YMap) else None
            if isinstance(content, str) and (looks_like_nginx(str(name), content)
                                            or _NGINX_BLOCK.search(content)):
                first, literal = _placed(body, "content", text_of)
                found[embedded_id(compose.path, "configs", str(name))] = (content, compose.path, first, literal)
    return found


def _pod_spec(raw: Any) -> Any:
    spec = raw.get("spec") if isinstance(raw, dict) else None
    if not isinstance(spec, dict):
        return None
    if isinstance(spec.get("jobTemplate"), dict):
        spec = spec["jobTemplate"].get("spec") or {}
    template = spec.get("template") if isinstance(spec, dict) else None
    if isinstance(template, dict):
        return template.get("spec")
    return spec if "containers" in spec else None


def kubernetes_mounts(objects: Iterable[Any]) -> list[Mount]:
    objects = list(objects)
    configmaps = {(o.namespace, o.name): o for o in objects if o.kind == "ConfigMap"}
    mounts: list[Mount] = []
    for obj in objects:
        pod = _pod_spec(obj.raw)
        if not isinstance(pod, dict):
            continue
        volumes = {v.get("name"): v for v in pod.get("volumes") or [] if isinstance(v, dict)}
        for container in list(pod.get("containers") or []) + list(pod.get("initContainers") or []):
            if not isinstance(container, dict):
                continue
            for mount in container.get("volumeMounts") or []:
                if not isinstance(mount, dict) or not isinstance(mount.get("mountPath"), str):
                    continue
                volume = volumes.get(mount.get("name")) or {}
                source = volume.get("configMap") if isinstance(volume, dict) else None
                if not isinstance(source, dict):
                    continue
                configmap = configmaps.get((obj.namespace, source.get("name"))) or \
                    next((c for (ns, n), c in configmaps.items() if n == source.get("name")), None)
                if configmap is None or not isinstance(configmap.raw.get("data"), dict):
                    continue
                keys = {str(k): str(k) for k in configmap.raw["data"]}
                items = source.get("items")
                if isinstance(items, list):
                    keys = {str(i["key"]): str(i.get("path") or i["key"]) for i in items
                            if isinstance(i, dict) and "key" in i}
                where = f"{obj.kind} {obj.name}, container {container.get('name')}"
                sub = mount.get("subPath")
                for key, name in keys.items():
                    if isinstance(sub, str) and sub:
                        if sub != name:
                            continue
                        target = mount["mountPath"]
                    else:
                        target = posixpath.join(mount["mountPath"], name)
                    mounts.append(Mount(where, posixpath.normpath(target),
                                        embedded_id(configmap.span.path, configmap.name, key), obj.span.path))
    return mounts


def _tree(folder: str, path: str) -> str | None:
    from auditor.model.project import normalized_inside_root

    return normalized_inside_root(posixpath.join(folder, path) if folder else path)


def compose_mounts(compose_files: Iterable[Any]) -> list[Mount]:
    mounts: list[Mount] = []
    for compose in compose_files:
        folder = compose.directory
        configs = compose.section("configs")
        services = compose.section("services")
        parsed = {service.name: service for service in compose.services}
        for name, service in services.items():
            if not isinstance(service, YMap):
                continue
            # the compose parser's reading of each entry (short or long syntax, ${VAR:-default})
            for volume in parsed[name].volumes if name in parsed else ():
                source, target = volume.source, volume.target
                if volume.kind == "bind" and source and target and source.startswith("."):
                    tree = _tree(folder, source)
                    if tree is not None:
                        mounts.append(Mount(f"service {name}", posixpath.normpath(target), tree, compose.path))
            for entry in service.get("configs") or []:
                config_name = entry if isinstance(entry, str) else entry.get("source") if isinstance(entry, dict) else None
                target = entry.get("target") if isinstance(entry, dict) else None
                target = target or f"/{config_name}"
                body = configs.get(config_name) if config_name is not None else None
                if not isinstance(body, dict):
                    continue
                if isinstance(body.get("file"), str):
                    tree = _tree(folder, body["file"])
                    if tree is not None:
                        mounts.append(Mount(f"service {name}", posixpath.normpath(target), tree, compose.path))
                elif isinstance(body.get("content"), str):
                    mounts.append(Mount(f"service {name}", posixpath.normpath(target),
                                        embedded_id(compose.path, "configs", str(config_name)), compose.path))
    return mounts


def dockerfile_mounts(dockerfiles: Iterable[Any], is_dir: Callable[[str], bool] = lambda path: False) -> list[Mount]:
    """``COPY``/``ADD`` of build-context files (not ``--from`` a stage) into absolute paths; the
    context is taken to be the Dockerfile's folder."""
    mounts: list[Mount] = []
    for dockerfile in dockerfiles:
        for stage in dockerfile.stages:
            for instruction in stage.instructions:
                if instruction.keyword not in ("COPY", "ADD") or "from" in instruction.flags:
                    continue
                destination = instruction.copy_destination
                if not destination or not destination.startswith("/"):
                    continue
                sources = instruction.copy_sources
                for source in sources:
                    tree = _tree(dockerfile.directory, source)
                    if tree is None or any(ch in source for ch in "*?["):
                        continue
                    target = destination
                    if destination.endswith("/") and not source.endswith("/") and not is_dir(tree):
                        target = posixpath.join(destination, posixpath.basename(source.rstrip("/")))
                    mounts.append(Mount(f"{dockerfile.path} stage {stage.label}", posixpath.normpath(target),
                                        tree, dockerfile.path))
    return mounts
