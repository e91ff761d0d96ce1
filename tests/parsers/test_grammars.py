"""tree-sitter grammars loaded as the parsers use them: the compiled binding alone."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _fresh(code: str, tmp_path: Path, *paths: Path) -> dict[str, object]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), *map(str, paths)])}
    done = subprocess.run([sys.executable, "-c", f"import json, sys\n{code}\nprint(json.dumps(result))"],
                          env=env, capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_the_binding_loads_without_the_package_and_a_later_import_shares_it(tmp_path: Path) -> None:
    # (``importlib.resources`` is counted only if the binding imported it: CI's interpreter
    # imports it at start, from a ``.pth`` file that loads ``certifi``)
    result = _fresh("""
started_with = set(sys.modules)
from auditor.parsers.grammars import binding
from auditor.parsers.shell import parse_script
bash = binding("tree_sitter_bash")
words = [list(command.argv) for command in parse_script("if [ -f a ]; then npm ci; fi").commands]
before = sorted(name for name in ("tree_sitter_bash", "importlib.resources", "tree_sitter")
                if name in sys.modules and name not in started_with)
core = binding("tree_sitter")
import tree_sitter_bash, tree_sitter
result = {"name": bash.__name__, "before": before, "words": words, "core": core.__name__,
          "same": tree_sitter_bash.language is bash.language and tree_sitter.Parser is core.Parser,
          "again": binding("tree_sitter_bash") is bash}
""", tmp_path)
    assert result["name"] == "tree_sitter_bash._binding" and result["core"] == "tree_sitter._binding"
    assert result["before"] == []
    assert ["npm", "ci"] in result["words"]  # type: ignore[operator]
    assert result["same"] is True and result["again"] is True


def test_the_typescript_and_javascript_grammars_read_a_next_config(tmp_path: Path) -> None:
    result = _fresh("""
from auditor.parsers.nextjs import parse_next_config
made = {}
for name in ("next.config.ts", "next.config.mjs"):
    config, problems, _ = parse_next_config(b"export default { output: 'standalone', poweredByHeader: false }", name)
    made[name] = [config.statically_readable, len(problems)]
result = {"made": made, "packages": sorted(name for name in ("tree_sitter_typescript", "tree_sitter_javascript")
                                           if name in sys.modules)}
""", tmp_path)
    assert result["made"] == {"next.config.ts": [True, 0], "next.config.mjs": [True, 0]}
    assert result["packages"] == []


def test_a_grammar_package_without_a_loadable_binding_is_imported_as_usual(tmp_path: Path) -> None:
    """Another layout (here a package whose language is plain Python, no ``_binding`` file): the
    package itself is imported and used."""
    package = tmp_path / "site" / "grammar_of_another_layout"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("def language():\n    return 42\n", encoding="utf-8")
    result = _fresh("""
from auditor.parsers.grammars import binding
made = binding("grammar_of_another_layout")
result = {"name": made.__name__, "language": made.language()}
""", tmp_path, tmp_path / "site")
    assert result == {"name": "grammar_of_another_layout", "language": 42}


def test_a_binding_asked_for_while_another_thread_imports_its_package_waits_for_that_import(
        tmp_path: Path) -> None:
    from tests.parsers.test_dockerfile_library import _PAUSED_IMPORT

    result = _fresh(f"""
PAUSED = "tree_sitter"
{_PAUSED_IMPORT}
from auditor.parsers import grammars
try:
    parser = grammars.parser_for(grammars.binding("tree_sitter_bash").language())
    result = parser.parse(b"echo hi").root_node.type
except Exception as error:
    result = repr(error)
importer.join()
""", tmp_path)
    assert result == "program"


def test_a_worker_forked_while_another_thread_loads_a_binding_can_load_it_too(tmp_path: Path) -> None:
    # the pool's fork can land while npm audit's thread holds the lock of the bindings' loads: a
    # child that inherited it held would wait forever (a SIGALRM watchdog ends it with code 3)
    result = _fresh("""
import os, signal, threading, time
from auditor.parsers import grammars
real, inside = grammars._load_binding, threading.Event()
def slow(package, name):
    inside.set()
    time.sleep(0.5)  # a load that takes a while: the fork below comes during it
    return real(package, name)
grammars._load_binding = slow
loader = threading.Thread(target=grammars.binding, args=("tree_sitter_bash",))
loader.start()
inside.wait(10)
pid = os.fork()
if pid == 0:
    signal.signal(signal.SIGALRM, lambda *_: os._exit(3))
    signal.alarm(20)
    grammars._load_binding = real
    grammars.binding("tree_sitter_bash").language()
    os._exit(0)
loader.join()
result = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
""", tmp_path)
    assert result == 0
