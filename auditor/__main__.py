"""``python -m auditor``.

For ``-m`` Python puts the current folder first on ``sys.path``. Run from inside the audited tree
(a CI job's checkout), a module of the tree named like a library the auditor imports later
(``dockerfile_parse.py``, a ``yaml/`` folder) would be found before the installed one and run:
the tree's code, in the auditor. The auditor's own modules no longer need that entry (this
package is imported; its modules are found through it), so it goes before anything else loads.
(``-P`` or ``PYTHONSAFEPATH`` leave it out themselves; the ``auditor`` command never has it.)"""
import os
import sys

if sys.path and not sys.flags.safe_path and os.path.realpath(sys.path[0] or os.curdir) == os.path.realpath(os.curdir):
    del sys.path[0]

from auditor.cli import program  # noqa: E402 - after the current folder left sys.path

raise SystemExit(program())
