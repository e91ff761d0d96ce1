"""How dockerfile-parse is imported: without ``logging`` while nothing else has imported it (its
logger only ever gets debug messages, dropped until ``logging`` exists), as usual otherwise.

Each case runs in a fresh interpreter: which modules are loaded is the point."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = "FROM node:20-alpine\\nUSER 1001\\nRUN npm ci\\n"


def _fresh(code: str, tmp_path: Path, *paths: Path) -> dict[str, object]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([*map(str, paths), str(REPO)])}
    done = subprocess.run([sys.executable, "-c", f"import json, sys\nstarted_with = set(sys.modules)\n{code}\n"
                           "print(json.dumps(result))"], env=env, capture_output=True, text=True, cwd=tmp_path,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_dockerfile_parse_is_imported_without_logging_and_its_debug_messages_reach_logging_once_loaded(
        tmp_path: Path) -> None:
    result = _fresh(f"""
from auditor.parsers.dockerfile import parse_dockerfile
first, problems = parse_dockerfile("{DOCKERFILE}", "Dockerfile")
loaded_first = [name for name in ("logging",) if name in sys.modules and name not in started_with]
import dockerfile_parse.parser as library
logger_kind = type(library.logger).__name__
library.logger.debug("dropped %s", 1)  # as dockerfile-parse's own calls (DockerfileParser.labels and others)
still_without = "logging" not in sys.modules
import logging
records = []
class Keep(logging.Handler):
    def emit(self, record):
        records.append(record.getMessage()[:20])
logging.getLogger("dockerfile_parse.parser").addHandler(Keep())
logging.getLogger("dockerfile_parse.parser").setLevel(logging.DEBUG)
second, _ = parse_dockerfile("{DOCKERFILE}", "Dockerfile")
library.logger.debug("kept %s", 2)
library.logger.warning("warned %s", 3)
result = {{"instructions": [i.keyword for i in first.instructions], "problems": len(problems),
          "loaded_first": loaded_first, "logger": logger_kind, "records": records, "still": still_without,
          "same": [i.keyword for i in second.instructions] == [i.keyword for i in first.instructions],
          "level": library.logging.DEBUG, "stand_in_left": type(sys.modules["logging"]).__name__}}
""", tmp_path)
    assert result["instructions"] == ["FROM", "USER", "RUN"] and result["problems"] == 0
    assert result["loaded_first"] == []  # the scan path never imported logging
    assert result["logger"] == "_LoggerUntilLoggingIsLoaded"
    assert result["still"] is True and result["records"] == ["kept 2", "warned 3"]
    assert result["same"] is True
    assert result["level"] == 10 and result["stand_in_left"] == "module"  # library.logging reaches the real module


def test_with_logging_already_imported_dockerfile_parse_gets_its_real_logger(tmp_path: Path) -> None:
    result = _fresh(f"""
import logging
from auditor.parsers.dockerfile import parse_dockerfile
parsed, _ = parse_dockerfile("{DOCKERFILE}", "Dockerfile")
import dockerfile_parse.parser as library
result = {{"logger": type(library.logger).__name__, "count": len(parsed.instructions)}}
""", tmp_path)
    assert result == {"logger": "Logger", "count": 3}


@pytest.mark.parametrize("on_import", ["LEVEL = logging.DEBUG\nlogger = logging.getLogger(__name__)",
                                       "logger = logging.getLogger(__name__)\nlogger.addHandler(logging.NullHandler())"
                                       "\nLEVEL = logger.level or 10"])
def test_a_release_that_uses_more_of_logging_on_import_is_imported_as_usual(tmp_path: Path, on_import: str) -> None:
    """A dockerfile-parse whose module reads ``logging.DEBUG``, or gives its logger a handler, as
    it is imported: the stand-ins have no such names, so both are imported again, as ever."""
    package = tmp_path / "site" / "dockerfile_parse"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("from .parser import DockerfileParser\n", encoding="utf-8")
    (package / "parser.py").write_text(
        f"import logging\n{on_import}\n"
        "class DockerfileParser:\n    def __init__(self, fileobj, env_replace):\n        self.structure = []\n",
        encoding="utf-8")
    result = _fresh("""
from auditor.parsers.dockerfile import _dockerfile_parser
made = _dockerfile_parser()
import dockerfile_parse.parser as library
result = {"module": made.__module__, "file": library.__file__, "level": library.LEVEL,
          "logging": type(sys.modules["logging"]).__name__, "logger": type(library.logger).__name__}
""", tmp_path, tmp_path / "site")
    assert result["module"] == "dockerfile_parse.parser" and str(result["file"]).startswith(str(tmp_path))
    assert result == {**result, "level": 10, "logging": "module", "logger": "Logger"}


def test_while_another_thread_runs_dockerfile_parse_is_imported_with_logging_itself(tmp_path: Path) -> None:
    """``import logging`` in another thread would find the stand-in in ``sys.modules``: with a
    thread running, nothing is stood in."""
    result = _fresh(f"""
import threading
release = threading.Event()
other = threading.Thread(target=release.wait)
other.start()
from auditor.parsers.dockerfile import parse_dockerfile
parsed, _ = parse_dockerfile("{DOCKERFILE}", "Dockerfile")
release.set()
other.join()
import dockerfile_parse.parser as library
result = {{"logger": type(library.logger).__name__, "count": len(parsed.instructions),
          "logging": type(sys.modules["logging"]).__name__}}
""", tmp_path)
    assert result == {"logger": "Logger", "count": 3, "logging": "module"}


def test_debug_records_name_dockerfile_parses_own_code(tmp_path: Path) -> None:
    result = _fresh(f"""
from auditor.parsers.dockerfile import parse_dockerfile
parse_dockerfile("{DOCKERFILE}", "Dockerfile")
import logging
records = []
class Keep(logging.Handler):
    def emit(self, record):
        records.append([record.filename, record.funcName])
logger = logging.getLogger("dockerfile_parse.parser")
logger.addHandler(Keep())
logger.setLevel(logging.DEBUG)
import io
from dockerfile_parse import DockerfileParser
DockerfileParser(fileobj=io.BytesIO(b"FROM alpine\\nLABEL a=b\\n")).labels
result = {{"records": records}}
""", tmp_path)
    assert result["records"] and all(record[0] == "parser.py" for record in result["records"])  # type: ignore[union-attr]


# A module that another thread is importing sits in sys.modules half made until that import ends:
# this hook pauses the import of one module in a thread of its own, after its entry is made and
# before its code runs, until the main thread has asked for the module.
_PAUSED_IMPORT = """
import importlib.machinery, threading
entered, asked = threading.Event(), threading.Event()
class Pause:
    def find_spec(self, name, path, target=None):
        if name != PAUSED:
            return None
        sys.meta_path.remove(self)
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        run = spec.loader.exec_module
        def exec_module(module):
            entered.set()
            asked.wait(10)
            run(module)
        spec.loader.exec_module = exec_module
        return spec
sys.meta_path.insert(0, Pause())
importer = threading.Thread(target=lambda: __import__(PAUSED))
importer.start()
entered.wait(10)
threading.Timer(0.2, asked.set).start()  # lets the import go on while the main thread waits for it
"""


def test_a_dockerfile_parsed_while_another_thread_imports_dockerfile_parse_waits_for_that_import(
        tmp_path: Path) -> None:
    # npm audit's thread parses the Dockerfile beside a lockfile while the main thread parses the
    # tree: the half-imported module was taken and the run failed with "partially initialized module"
    result = _fresh(f"""
PAUSED = "dockerfile_parse.parser"
{_PAUSED_IMPORT}
from auditor.parsers.dockerfile import parse_dockerfile
try:
    parsed, problems = parse_dockerfile("{DOCKERFILE}", "Dockerfile")
    result = [i.keyword for i in parsed.instructions]
except Exception as error:
    result = repr(error)
importer.join()
""", tmp_path)
    assert result == ["FROM", "USER", "RUN"]
