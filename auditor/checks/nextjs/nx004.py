from __future__ import annotations

import posixpath
from collections.abc import Iterator

from auditor.checks.nextjs._helpers import in_app
from auditor.findings import Fail, Outcome, Pass
from auditor.model.nextjs import NextApp
from auditor.params import Params

ID = "NX004"
NODES = "document"


def check(app: NextApp, params: Params) -> Iterator[Outcome]:
    package, lockfile = app.package, app.lockfile
    if package is None:
        return  # package.json missing or unreadable: nothing to compare (AUD001 says why)
    if lockfile is None:
        yield Fail(package, f"no package-lock.json beside {package.span.path}, so `npm ci` cannot "
                            "install reproducibly; run `npm install` and commit "
                            f"{in_app(app, 'package-lock.json')}")
        return
    if app.lockfile_dir == app.dir:
        recorded, anchor = lockfile.name, lockfile.name_span
    else:  # a workspace member: npm records it in the root lockfile under its folder
        folder = posixpath.relpath(app.dir, app.lockfile_dir or ".")
        if folder not in lockfile.workspace_names:
            yield Fail(lockfile, f"{lockfile.span.path} has no entry for the workspace {folder}, "
                                 "so it is stale; run `npm install` at the workspace root and "
                                 "commit it", related=[package.span_of("name")])
            return
        recorded, anchor = lockfile.workspace_names[folder], lockfile.span
    if recorded == package.name:
        yield Pass(anchor, f"{lockfile.span.path} is committed and records the name "
                           f"{package.name!r} of {package.span.path}")
        return
    yield Fail(anchor, f"{lockfile.span.path} records the name {recorded!r} but "
                       f"{package.span.path} says {package.name!r}; the lockfile is stale or "
                       "belongs to another package, regenerate it with `npm install`",
               related=[package.span_of("name")])
