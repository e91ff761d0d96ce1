from __future__ import annotations

from collections.abc import Iterator

from auditor.checks.nextjs._helpers import in_app
from auditor.findings import Fail, Outcome, Pass
from auditor.model.nextjs import NextApp
from auditor.params import Params

ID = "NX002"
NODES = "document"


def check(app: NextApp, params: Params) -> Iterator[Outcome]:
    path = params["health_path"]
    route = app.route(path)
    if route is None:
        segments = path.strip("/")
        yield Fail(app, f"no API route serves {path} (the path the container and proxy health "
                        f"checks probe); add {in_app(app, f'pages/{segments}.ts')} or "
                        f"{in_app(app, f'app/{segments}/route.ts')}")
    elif not route.handles("GET"):
        exported = ", ".join(route.methods or ()) or "no HTTP method"
        # An App Router handler answers only the methods it exports; probes get 405 otherwise.
        yield Fail(route, f"{route.span.path} exports {exported} but no GET handler, so health "
                          "probes get 405; add `export async function GET()` answering 200")
    else:
        yield Pass(route, f"{route.span.path} serves GET {route.route}")
