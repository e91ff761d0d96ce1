from __future__ import annotations

from collections.abc import Iterator

from auditor.checks.nextjs._helpers import config_name, in_app
from auditor.findings import Fail, Outcome, Pass, Unknown
from auditor.model.nextjs import NextApp
from auditor.params import Params

ID = "NX003"
NODES = "document"


def check(app: NextApp, params: Params) -> Iterator[Outcome]:
    config = app.config
    if config is None:
        # Next.js sends X-Powered-By unless the config turns it off.
        yield Fail(app, f"{in_app(app, 'next.config.js')} is missing, so Next.js sends "
                        "X-Powered-By: Next.js; create it with poweredByHeader: false")
        return
    if not config.statically_readable:  # unknown is not absent: the control is "not checked"
        yield Unknown(config, f"{config_name(app)} {config.reason or 'is not statically readable'}")
        return
    setting = config.get("poweredByHeader")
    if setting is None:
        yield Fail(config, f"{config_name(app)} does not set poweredByHeader, so Next.js sends "
                           "X-Powered-By: Next.js; add poweredByHeader: false to this object")
    elif setting.literal and setting.value is False:
        yield Pass(setting, f"poweredByHeader: false in {config_name(app)}")
    else:
        shown = repr(setting.value).lower() if setting.literal else "a computed value"
        yield Fail(setting, f"poweredByHeader is {shown}, so Next.js may send X-Powered-By; "
                            "set poweredByHeader: false here")
