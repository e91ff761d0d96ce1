"""What several NX checks share: naming the config file in messages."""
from __future__ import annotations

import posixpath

from auditor.model.nextjs import NextApp


def config_name(app: NextApp) -> str:
    """The file name a message should tell the reader to edit."""
    return posixpath.basename(app.config_files[0]) if app.config_files else "next.config.js"


def in_app(app: NextApp, name: str) -> str:
    return f"{app.dir}/{name}" if app.dir else name
