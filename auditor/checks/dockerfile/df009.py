from __future__ import annotations

from collections.abc import Iterator

from auditor.checks.dockerfile._helpers import effective_user, user_name
from auditor.findings import Fail, Outcome, Pass
from auditor.model.dockerfile import Dockerfile, Stage
from auditor.params import Params

ID = "DF009"
NODES = "dockerfile.final_stage"


def check(final: Stage, doc: Dockerfile, params: Params) -> Iterator[Outcome]:
    wanted = str(params["uid"])
    user = effective_user(doc, final)
    if user is None:
        yield Fail(final, f"final {final.label} has no USER, so it runs as UID 0; add USER {wanted}")
        return
    name = user_name(user)
    found = doc.user_uid(final, name)
    if found is None:
        yield Fail(user, f"USER {name} has no UID the Dockerfile shows (no adduser/useradd -u for it); "
                         f"create it with adduser -S -u {wanted} {name} or write USER {wanted}")
        return
    uid, created_by = found
    if uid != wanted:
        origin = "created here" if created_by else "numeric" if name.isdigit() else "from the base image"
        yield Fail(user, f"USER {name} is UID {uid} ({origin}), not {wanted}; "
                         f"create the runtime user with UID {wanted} and switch to it here",
                   related=[created_by] if created_by else ())
    else:
        yield Pass(user, f"runtime user {name} has UID {wanted}")
