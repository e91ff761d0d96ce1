"""The architecture profile: the architecture's numbers, declared once.

A rule parameter that expresses one of them names it (``profile: runtime.uid`` in ``rules/*.yaml``)
instead of repeating the number; the catalog fills the parameter's default from here, the
``architecture:`` section of the configuration changes it for every rule at once, and a rule's own
parameter setting (``rules: {DF009: {uid: 1000}}``) still wins.

Pure data and small functions: imported by the catalog, so nothing heavy here.
"""
from __future__ import annotations

import re
TYPE_CHECKING = False  # typing's constant (mypy takes it as True) without importing typing
if TYPE_CHECKING:  # mypy sees the standard decorator; auditor.record builds the same classes cheaper
    from dataclasses import dataclass
    from typing import Any, Callable
else:
    from auditor.record import dataclass


@dataclass(frozen=True)
class Key:
    default: Any
    schema: dict[str, Any]
    description: str
    weaker: str = "different"  # higher | lower | superset | subset | different: which change weakens


_LIST_OF_STRINGS = {"type": "array", "items": {"type": "string"}}

PROFILE: dict[str, Key] = {
    "runtime.uid": Key(1001, {"type": "integer", "minimum": 1}, "UID the app container runs as"),
    "runtime.gid": Key(1001, {"type": "integer", "minimum": 0}, "GID the app container runs as"),
    "runtime.user": Key("nextjs", {"type": "string", "minLength": 1}, "name of the runtime user"),
    "app.port": Key(3000, {"type": "integer", "minimum": 1, "maximum": 65535}, "port the app listens on"),
    "app.health_path": Key("/api/health", {"type": "string", "pattern": "^/"}, "the app's health endpoint"),
    "node.major": Key(20, {"type": "integer", "minimum": 1}, "Node.js major version of the base image"),
    "node.family": Key("alpine", {"type": "string", "pattern": "^[a-z0-9][a-z0-9.-]*$"},
                       "base image family (alpine, slim, bookworm...)"),
    "rate_limit.rate": Key("10r/s", {"type": "string", "pattern": r"^[0-9]+r/[sm]$"},
                           "nginx request rate per client", "higher"),
    "rate_limit.burst": Key(20, {"type": "integer", "minimum": 0}, "nginx burst above the rate", "higher"),
    "resources.cpus": Key(2, {"type": "number", "exclusiveMinimum": 0}, "CPU limit per app container", "higher"),
    "resources.memory": Key("2G", {"type": "string", "pattern": r"^[0-9]+(\.[0-9]+)?[KMGkmg]$"},
                            "memory limit per app container (Docker units: 512M, 2G)", "higher"),
    "replicas": Key(3, {"type": "integer", "minimum": 1}, "app replicas in Kubernetes", "lower"),
    "network.subnet": Key("172.20.0.0/16", {"type": ["string", "null"]}, "the isolated network's subnet"),
    "capabilities.app": Key([], _LIST_OF_STRINGS, "capabilities the app may add", "superset"),
    "capabilities.proxy": Key(["CHOWN", "SETGID", "SETUID", "NET_BIND_SERVICE"], _LIST_OF_STRINGS,
                              "capabilities the proxy may add", "superset"),
    "tls.protocols": Key(["TLSv1.2", "TLSv1.3"], _LIST_OF_STRINGS, "TLS protocols nginx may offer", "superset"),
    "tls.hsts_max_age": Key(31536000, {"type": "integer", "minimum": 0}, "HSTS max-age in seconds", "lower"),
    "headers.required": Key(["Strict-Transport-Security", "Content-Security-Policy", "X-Frame-Options",
                             "X-Content-Type-Options", "Referrer-Policy", "Permissions-Policy",
                             "Cross-Origin-Opener-Policy", "Cross-Origin-Embedder-Policy",
                             "Cross-Origin-Resource-Policy"], _LIST_OF_STRINGS,
                            "security headers nginx must send", "subset"),
    "static_cache_seconds": Key(2592000, {"type": "integer", "minimum": 0},
                                "cache lifetime of hashed static assets, in seconds"),
}
# Values computed from others: the base image a Dockerfile may use.
DERIVED: dict[str, Callable[[dict[str, Any]], Any]] = {
    "node.image": lambda p: f"node:{p['node.major']}-{p['node.family']}",
}
SETTINGS = ("document", "_trusted")  # keys of `architecture:` that are not numbers of the profile


def _kubernetes_memory(value: str) -> str:
    """Docker's ``2G`` (GiB) as a Kubernetes quantity ``2Gi``."""
    match = re.fullmatch(r"([0-9.]+)([KMGkmg])", str(value))
    return f"{match.group(1)}{match.group(2).upper()}i" if match else str(value)


def _per_second(value: str) -> int:
    match = re.fullmatch(r"([0-9]+)r/([sm])", str(value))
    if not match:
        return int(value)
    number = int(match.group(1))
    return number if match.group(2) == "s" else max(1, -(-number // 60))


CONVERSIONS: dict[str, Callable[[Any], Any]] = {
    "kubernetes_memory": _kubernetes_memory,
    "per_second": _per_second,
    "list": lambda value: [value],
}


def flatten(section: dict[str, Any] | None) -> dict[str, Any]:
    """``{runtime: {uid: 1001}}`` as ``{"runtime.uid": 1001}`` (settings such as ``document`` left out)."""
    flat: dict[str, Any] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict) and prefix not in PROFILE:
            for key, inner in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), inner)
        else:
            flat[prefix] = value

    walk("", {k: v for k, v in (section or {}).items() if k not in SETTINGS})
    return flat


def resolved(section: dict[str, Any] | None = None) -> dict[str, Any]:
    """Every profile value in force: the defaults, then the configuration's ``architecture:``."""
    values = {name: key.default for name, key in PROFILE.items()}
    values.update({k: v for k, v in flatten(section).items() if k in PROFILE})
    for name, derive in DERIVED.items():
        values[name] = derive(values)
    return values


def parameter_value(spec: dict[str, Any], values: dict[str, Any]) -> Any:
    """The value a ``profile:`` parameter takes from the profile ``values``."""
    value = values[spec["profile"]]
    convert = spec.get("profile_as")
    return CONVERSIONS[convert](value) if convert else value


def known_names() -> list[str]:
    return sorted([*PROFILE, *DERIVED])


def problems(section: Any) -> list[str]:
    """What is wrong with an ``architecture:`` section, as ``architecture.KEY: message`` lines."""
    import jsonschema

    if not isinstance(section, dict):
        return ["architecture: must be a mapping"]
    found = []
    if "_trusted" in section:  # only the command line (--architecture FILE) marks a document trusted
        found.append("architecture._trusted: not a setting (name a document outside the tree with --architecture FILE)")
    document = section.get("document")
    if document is not None and (not isinstance(document, str) or not document):
        found.append("architecture.document: must be a file path")
    for name, value in flatten(section).items():
        key = PROFILE.get(name)
        if key is None:
            from difflib import get_close_matches

            close = get_close_matches(name, list(PROFILE), n=1)
            found.append(f"architecture.{name}: not a profile value"
                         + (f" (did you mean {close[0]!r}?)" if close else "")
                         + f"; known: {', '.join(PROFILE)}")
            continue
        error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(key.schema).iter_errors(value))
        if error is not None:
            found.append(f"architecture.{name}: {error.message[:120]}")
    return found


def magnitude(name: str, value: Any) -> float:
    """A comparable number for the ``higher``/``lower`` keys."""
    if name == "rate_limit.rate":
        match = re.fullmatch(r"([0-9]+)r/([sm])", str(value))
        return int(match.group(1)) / (1 if match.group(2) == "s" else 60) if match else 0.0
    if name == "resources.memory":
        match = re.fullmatch(r"([0-9.]+)([KMGkmg])", str(value))
        scale = {"k": 1, "m": 1024, "g": 1024 * 1024}
        return float(match.group(1)) * scale[match.group(2).lower()] if match else 0.0
    return float(value)


def weakens(name: str, value: Any) -> bool | None:
    """Whether setting profile key ``name`` to ``value`` weakens the controls that use it (None: a
    different value that is neither weaker nor stronger, such as another UID)."""
    key = PROFILE[name]
    default = key.default
    if key.weaker == "higher":
        return magnitude(name, value) > magnitude(name, default)
    if key.weaker == "lower":
        return magnitude(name, value) < magnitude(name, default)
    if key.weaker == "superset":
        return bool(set(value) - set(default))
    if key.weaker == "subset":
        return bool(set(default) - set(value))
    return None


def parameters_in_force(rule: Any, architecture: dict[str, Any] | None, overrides: dict[str, Any] | None,
                        source: str | None = None) -> dict[str, tuple[Any, str]]:
    """Each of ``rule``'s parameters: the value in force and where it came from (a rule override,
    the configuration's profile, the profile's default, or the catalog default)."""
    values = resolved(architecture)
    set_in_profile = flatten(architecture)
    where = f" in {source}" if source else ""
    found: dict[str, tuple[Any, str]] = {}
    for name, spec in rule.parameters.items():
        if overrides and name in overrides:
            found[name] = (overrides[name], f"rule override rules.{rule.id}.{name}{where}")
        elif "profile" in spec:
            key = spec["profile"]
            inputs = [key] if key in PROFILE else [k for k in PROFILE if k.startswith(key.split(".")[0] + ".")]
            chosen = [k for k in inputs if k in set_in_profile]
            origin = (f"profile architecture.{', architecture.'.join(chosen)}{where}" if chosen
                      else f"profile default {key} (auditor/architecture/profile.py)")
            found[name] = (parameter_value(spec, values), origin)
        else:
            found[name] = (spec["default"], "catalog default (rules/%s.yaml)" % rule.id)
    return found
