"""The hostile-input corpus: each case builds a small tree in a temporary folder and states what
the audit must say about it.

Big inputs (a 100 MB line, 10k stages, 100k directives, thousands of glob matches) are generated
here at test time, never committed. Every case expects one of:
- ``aud001``: an AUD001 finding (a parse problem) on ``path`` whose message contains ``text``;
- ``aud003``: an AUD003 finding (a file of an audited kind not checked: size cap, time budget,
  include depth, unreadable) on ``path`` whose message contains ``text``; the scan exits 1;
- ``note``: a note on ``path`` containing ``text`` (an include outside the tree, a template);
- ``clean``: neither is required; the audit just has to end normally (exit 0 or 1, valid JSON).
``path`` may be ``None`` when the file name itself is the hostile part (then any path matches).
Used by ``test_adversarial.py`` and, as seeds, by the fuzzers.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

MB = 1024 * 1024


@dataclass(frozen=True)
class Expect:
    kind: str  # "aud001" | "aud003" | "note" | "clean"
    path: str | None = None
    text: str = ""


@dataclass(frozen=True)
class Case:
    name: str
    build: Callable[[Path], None]
    expect: tuple[Expect, ...]
    config: str | None = None  # .auditor.yaml content, to lower or raise a bound
    args: tuple[str, ...] = ()


def _write(root: Path, relative: str, content: str | bytes) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")


def _files(**named: str | bytes) -> Callable[[Path], None]:
    def build(root: Path) -> None:
        for relative, content in named.items():
            _write(root, relative.replace("__", "/"), content)
    return build


def _big_line(root: Path, relative: str, prefix: bytes, size: int, fill: bytes = b"a") -> None:
    """One line of ``size`` bytes, written in chunks so the test itself stays small in memory."""
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    chunk = fill * MB
    with open(path, "wb") as handle:
        handle.write(prefix)
        left = size - len(prefix)
        while left > 0:
            handle.write(chunk[:min(left, MB)])
            left -= MB


# --- YAML ------------------------------------------------------------------------------------

BILLION_LAUGHS = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: lol}\na0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"a{i}: &a{i} [{', '.join(['*a%d' % (i - 1)] * 9)}]\n" for i in range(1, 10)) + "data: *a9\n"

# Aliases are shared, never copied, so the document above costs its size; a merge-key chain is
# the other way a naive loader multiplies work.
MERGE_BOMB = "".join(f"m{i}: &m{i} {{<<: [{', '.join(['*m%d' % (i - 1)] * 2)}], k{i}: v}}\n" if i else "m0: &m0 {k0: v}\n"
                     for i in range(40)) + "services: {web: {image: nginx, <<: *m39}}\n"


def _deep_yaml(root: Path) -> None:
    _write(root, "k8s/deep.yaml", "apiVersion: v1\nkind: ConfigMap\ndata: " + "[" * 10_000 + "]" * 10_000 + "\n")


def _deep_block_yaml(root: Path) -> None:
    lines = ["apiVersion: v1", "kind: ConfigMap", "data:"]
    lines += [" " * (i + 1) + f"k{i}:" for i in range(2_000)]
    _write(root, "k8s/deep-block.yaml", "\n".join(lines) + " x\n")


def _yaml_100mb_line(root: Path) -> None:
    _big_line(root, "k8s/huge.yaml", b"apiVersion: v1\nkind: ConfigMap\ndata: {a: ", 100 * MB)


def _yaml_4mb_line(root: Path) -> None:  # under the default size cap: really parsed
    _big_line(root, "k8s/long.yaml", b"apiVersion: v1\nkind: ConfigMap\ndata:\n  a: ", 4 * MB)


YAML_CASES = [
    Case("yaml_billion_laughs", _files(**{"k8s__lol.yaml": BILLION_LAUGHS}),
         (Expect("aud001", "k8s/lol.yaml", "aliases expand"),)),
    Case("yaml_merge_key_bomb", _files(**{"docker-compose.yml": MERGE_BOMB}),
         (Expect("aud001", "docker-compose.yml", "aliases expand"),)),
    Case("yaml_10000_deep_flow", _deep_yaml, (Expect("aud001", "k8s/deep.yaml", "nesting"),)),
    Case("yaml_2000_deep_block", _deep_block_yaml, (Expect("aud001", "k8s/deep-block.yaml", "nesting"),)),
    Case("yaml_duplicate_keys", _files(**{"docker-compose.yml": "services:\n  web:\n    image: a\n    image: b\n"}),
         (Expect("aud001", "docker-compose.yml", "duplicate key"),)),
    Case("yaml_python_object_tag",
         _files(**{"docker-compose.yml": "services:\n  web: !!python/object/apply:os.system ['touch /tmp/pwned-auditor']\n",
                   "k8s__pod.yaml": "apiVersion: v1\nkind: Pod\nmetadata: !!python/object/new:os.system [echo pwned]\n"}),
         (Expect("clean"),)),
    Case("yaml_100mb_single_line", _yaml_100mb_line, (Expect("aud003", "k8s/huge.yaml", "size cap"),)),
    Case("yaml_4mb_single_line_under_cap", _yaml_4mb_line, (Expect("clean"),)),
    Case("yaml_non_utf8", _files(**{"docker-compose.yml": b"services:\n  web:\n    image: caf\xe9\n"}),
         (Expect("aud001", "docker-compose.yml", "UTF-8"),)),
    Case("yaml_bom", _files(**{"docker-compose.yml": "\ufeffservices:\n  web:\n    image: nginx:1.27-alpine\n"}),
         (Expect("clean"),)),
    Case("yaml_nul_bytes", _files(**{"k8s__nul.yaml": b"apiVersion: v1\nkind: Pod\x00\x00\n"}),
         (Expect("aud001", "k8s/nul.yaml", "NUL"),)),
    Case("yaml_nul_late", _files(**{"docker-compose.yml": b"services:\n  web:\n    image: x\n" + b"#" * 9000 + b"\x00\n"}),
         (Expect("aud001", "docker-compose.yml", ""),)),
    Case("yaml_control_chars", _files(**{"docker-compose.yml": "services:\n  web:\n    image: \x07\x1b[31mred\n"}),
         (Expect("aud001", "docker-compose.yml", "invalid YAML"),)),
    Case("yaml_100k_documents", _files(**{"k8s__many.yaml": "---\na: 1\n" * 100_000}), (Expect("clean"),)),
]

# --- nginx -----------------------------------------------------------------------------------


def _glob_thousands(root: Path) -> None:
    _write(root, "nginx/nginx.conf", "events {}\nhttp {\n  include conf.d/*.conf;\n}\n")
    folder = root / "nginx/conf.d"
    folder.mkdir(parents=True)
    for index in range(3_000):
        (folder / f"s{index:05d}.conf").write_text(f"server {{ listen {8000 + index % 1000}; }}\n")


def _nginx_100k(root: Path) -> None:
    body = "".join(f"    add_header X-H{i} v{i};\n" for i in range(100_000))
    _write(root, "nginx/nginx.conf", "events {}\nhttp {\n  server {\n    listen 80;\n" + body + "  }\n}\n")


def _nginx_deep_include_chain(root: Path) -> None:
    _write(root, "nginx/nginx.conf", "events {}\nhttp {\n  include inc/c0.conf;\n}\n")
    for index in range(40):
        _write(root, f"nginx/inc/c{index}.conf", f"include inc/c{index + 1}.conf;\nserver_tokens off;\n")
    _write(root, "nginx/inc/c40.conf", "server_tokens off;\n")


def _nginx_deep_blocks(root: Path) -> None:
    _write(root, "nginx/nginx.conf", "events {}\nhttp {\n server {\n listen 80;\n"
           + "location /a {\n" * 5_000 + "}\n" * 5_000 + " }\n}\n")


def _nginx_100mb_line(root: Path) -> None:
    _big_line(root, "nginx/nginx.conf", b"events {}\nhttp { server { listen 80; add_header X ", 100 * MB)


def _nginx_4mb_token(root: Path) -> None:
    _big_line(root, "nginx/nginx.conf", b"events {}\nhttp { server { listen 80; add_header X ", 4 * MB)


NGINX_CASES = [
    Case("nginx_include_cycle", _files(**{"nginx__nginx.conf": "events {}\nhttp {\n  include a.conf;\n}\n",
                                          "nginx__a.conf": "include b.conf;\n", "nginx__b.conf": "include a.conf;\n"}),
         (Expect("note", None, "include cycle"),)),
    Case("nginx_include_self", _files(**{"nginx__nginx.conf": "events {}\nhttp {\n  include nginx.conf;\n}\n"}),
         (Expect("note", "nginx/nginx.conf", "cycle"),)),
    Case("nginx_include_etc", _files(**{"nginx__nginx.conf": "events {}\nhttp {\n  include /etc/*;\n  include /etc/passwd;\n}\n"}),
         (Expect("note", "nginx/nginx.conf", "outside the audited tree"),)),
    Case("nginx_include_dotdot", _files(**{"nginx__nginx.conf": "events {}\nhttp {\n  include ../../../../../../etc/passwd;\n"
                                                                "  include ../../../../*;\n}\n"}),
         (Expect("note", "nginx/nginx.conf", "outside the audited tree"),)),
    Case("nginx_glob_thousands", _glob_thousands, (Expect("aud003", "nginx/nginx.conf", "included files"),)),
    Case("nginx_unbalanced_open", _files(**{"nginx__nginx.conf": "events {}\nhttp {\n  server {\n    listen 80;\n"}),
         (Expect("aud001", "nginx/nginx.conf", "nginx syntax"),)),
    Case("nginx_unbalanced_close", _files(**{"nginx__nginx.conf": "events {}\nhttp { }\n}\n}\n"}),
         (Expect("aud001", "nginx/nginx.conf", "nginx syntax"),)),
    Case("nginx_unterminated_quote", _files(**{"nginx__nginx.conf": "events {}\nhttp { add_header X \"abc;\n}\n"}),
         (Expect("aud001", "nginx/nginx.conf", "nginx syntax"),)),
    Case("nginx_100k_directives", _nginx_100k, (Expect("clean"),)),
    Case("nginx_include_depth", _nginx_deep_include_chain, (Expect("aud003", None, "nested deeper than"),)),
    Case("nginx_5000_nested_locations", _nginx_deep_blocks, (Expect("clean"),)),
    Case("nginx_100mb_line", _nginx_100mb_line, (Expect("aud003", "nginx/nginx.conf", "size cap"),)),
    Case("nginx_4mb_token_under_cap", _nginx_4mb_token, (Expect("aud001", "nginx/nginx.conf", ""),)),
    Case("nginx_non_utf8", _files(**{"nginx__nginx.conf": b"events {}\nhttp { server { listen 80; add_header X \xff\xfe; } }\n"}),
         (Expect("clean"),)),
]

# --- Dockerfile ------------------------------------------------------------------------------


def _endless_continuation(root: Path) -> None:
    _write(root, "Dockerfile", "FROM node:20-alpine\nRUN echo a \\\n" + "  && echo b \\\n" * 50_000)


def _endless_heredoc(root: Path) -> None:
    _write(root, "Dockerfile", "FROM node:20-alpine\nRUN <<EOF\n" + "echo never ends\n" * 50_000)


def _many_heredocs(root: Path) -> None:  # each opener rescans to the end: quadratic if naive
    _write(root, "Dockerfile", "FROM node:20-alpine\n" + "RUN <<EOF\n" * 20_000)


def _ten_thousand_stages(root: Path) -> None:
    _write(root, "Dockerfile", "".join(f"FROM node:20-alpine AS s{i}\nRUN true\n" for i in range(10_000)))


def _docker_100mb_line(root: Path) -> None:
    _big_line(root, "Dockerfile", b"FROM node:20-alpine\nRUN echo ", 100 * MB)


def _docker_4mb_line(root: Path) -> None:
    _big_line(root, "Dockerfile", b"FROM node:20-alpine\nRUN echo ", 4 * MB)


def _docker_4mb_continuations(root: Path) -> None:
    _big_line(root, "Dockerfile", b"FROM node:20-alpine\nRUN echo ", 4 * MB, fill=b"\\\n")


DOCKERFILE_CASES = [
    Case("dockerfile_endless_continuation", _endless_continuation, (Expect("clean"),)),
    Case("dockerfile_heredoc_never_ends", _endless_heredoc, (Expect("aud001", "Dockerfile", "never ends"),)),
    Case("dockerfile_20000_unclosed_heredocs", _many_heredocs, (Expect("aud001", "Dockerfile", "never ends"),)),
    Case("dockerfile_10000_stages", _ten_thousand_stages, (Expect("aud001", "Dockerfile", "stages"),)),
    Case("dockerfile_arg_self_reference",
         _files(Dockerfile="ARG A=${A}\nARG B=${C}\nARG C=${B}\nARG D=${D:-${D}}\nFROM ${A}\nFROM $B AS b\nFROM ${D}\n"),
         (Expect("clean"),)),
    Case("dockerfile_arg_exponential",
         _files(Dockerfile="ARG A0=xxxxxxxx\n" + "".join(f"ARG A{i}=${{A{i - 1}}}${{A{i - 1}}}\n" for i in range(1, 40))
                + "FROM ${A39}\n"),
         (Expect("clean"),)),
    Case("dockerfile_100mb_line", _docker_100mb_line, (Expect("aud003", "Dockerfile", "size cap"),)),
    Case("dockerfile_4mb_line_under_cap", _docker_4mb_line, (Expect("aud003", "Dockerfile", "character cap"),)),
    # 4 MB of continuation lines: see test_parse_time_budget_* (it needs the time budget)
    Case("dockerfile_binary", _files(Dockerfile=bytes(range(256)) * 100), (Expect("aud001", "Dockerfile", "NUL"),)),
    Case("dockerfile_bom_crlf", _files(Dockerfile="\ufeffFROM node:20-alpine\r\nUSER 1001\r\n"), (Expect("clean"),)),
]

# --- the tree --------------------------------------------------------------------------------


def _symlink_loop(root: Path) -> None:
    (root / "a").mkdir()
    os.symlink("..", root / "a/up")
    os.symlink("loop2", root / "loop1")
    os.symlink("loop1", root / "loop2")
    _write(root, "Dockerfile", "FROM node:20-alpine\nUSER 1001\n")


def _symlink_outside(root: Path) -> None:
    os.symlink("/etc/passwd", root / "Dockerfile")
    os.symlink("/etc", root / "nginx")
    os.symlink("/etc/hostname", root / "docker-compose.yml")


def _unreadable(root: Path) -> None:
    _write(root, "Dockerfile", "FROM node:20-alpine\n")
    _write(root, "nginx/nginx.conf", "events {}\nhttp {}\n")
    _write(root, "secret/docker-compose.yml", "services: {}\n")
    for folder in (root / "nginx", root / "secret"):
        folder.chmod(0o755)
    for path in (root / "Dockerfile", root / "nginx/nginx.conf", root / "secret/docker-compose.yml"):
        path.chmod(0o644)
    (root / "Dockerfile").chmod(0)
    (root / "nginx/nginx.conf").chmod(0)
    (root / "secret").chmod(0)


def _special_files(root: Path) -> None:
    os.mkfifo(root / "Dockerfile")  # reading it would block forever
    (root / "nginx").mkdir()
    os.mkfifo(root / "nginx/nginx.conf")
    os.mkfifo(root / "docker-compose.yml")
    os.symlink("Dockerfile", root / "Dockerfile.link")
    _write(root, "web/nginx.conf", "events {}\nhttp {\n  include ../nginx/nginx.conf;\n}\n")


def _hostile_names(root: Path) -> None:
    for name in ("Dockerfile.\nFAKE.txt:1 critical", "Dockerfile.\x1b[2J\x1b[31mx", "Dockerfile.[bold]x[/bold]",
                 "Dockerfile.<script>alert(1)<\u2028>", "Dockerfile.\"q\\b"):
        _write(root, name, "FROM node:latest\n")


def _long_paths(root: Path) -> None:
    folder = root
    for index in range(30):  # ~30 * 120 = 3,600 characters: past PATH_MAX-ish lengths of tools
        folder = folder / (f"{index:02d}" + "d" * 118)
        try:
            folder.mkdir()
        except OSError:
            break
    try:
        (folder / "Dockerfile").write_text("FROM node:20-alpine\n")
    except OSError:
        pass


def _many_files(root: Path) -> None:
    for index in range(300):
        _write(root, f"svc{index}/Dockerfile", "FROM node:20-alpine\n")


TREE_CASES = [
    Case("tree_symlink_loops", _symlink_loop, (Expect("note", None, "symbolic link"),)),
    Case("tree_symlinks_outside", _symlink_outside, (Expect("note", "Dockerfile", "outside"),
                                                     Expect("note", "nginx", "outside"))),
    Case("tree_fifos", _special_files, (Expect("aud003", "Dockerfile", "not a regular file"),
                                        Expect("aud003", "Dockerfile.link", "not a regular file"))),
    Case("tree_unreadable", _unreadable, (Expect("aud003", "Dockerfile", "not readable"),
                                          Expect("note", "secret", "not read"))),
    Case("tree_hostile_file_names", _hostile_names, (Expect("clean"),)),
    Case("tree_very_long_paths", _long_paths, (Expect("clean"),)),
    Case("tree_file_cap", _many_files, (Expect("note", None, "file cap"),), config="max_files: 50\n"),
    Case("tree_size_cap_configured", _files(Dockerfile="FROM node:20-alpine\n" + "# pad\n" * 100),
         (Expect("aud003", "Dockerfile", "size cap"),), config="max_file_size: 100\n"),
]

# --- Next.js / JSON --------------------------------------------------------------------------

NEXT_CASES = [
    Case("json_deep_nesting", _files(**{"package.json": "[" * 200_000 + "]" * 200_000}),
         (Expect("aud001", "package.json", ""),)),
    Case("json_deep_lockfile", _files(**{"package.json": '{"dependencies": {"next": "14.2.3"}}',
                                         "package-lock.json": '{"a":' * 50_000 + "1" + "}" * 50_000}),
         (Expect("aud001", "package-lock.json", ""),)),
    Case("next_config_deep_expression", _files(**{"package.json": '{"dependencies": {"next": "14.2.3"}}',
                                                  "next.config.js": "module.exports = " + "(" * 20_000 + "{}" + ")" * 20_000 + ";\n"}),
         (Expect("clean"),)),
    Case("next_config_deep_objects", _files(**{"package.json": '{"dependencies": {"next": "14.2.3"}}',
                                               "next.config.js": "module.exports = " + "{a:" * 5_000 + "1" + "}" * 5_000 + ";\n"}),
         (Expect("clean"),)),
    Case("next_config_self_reference", _files(**{"package.json": '{"dependencies": {"next": "14.2.3"}}',
                                                 "next.config.js": "const a = b;\nconst b = a;\nconst c = {...c, ...a};\nmodule.exports = {...c, headers: a};\n"}),
         (Expect("clean"),)),
    Case("next_route_garbage", _files(**{"package.json": '{"dependencies": {"next": "14.2.3"}}',
                                         "app__api__x__route.ts": "export const {" * 5_000}),
         (Expect("clean"),)),
]

CASES: list[Case] = YAML_CASES + NGINX_CASES + DOCKERFILE_CASES + TREE_CASES + NEXT_CASES
