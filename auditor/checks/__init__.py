"""Checks, one module per control: ``auditor/checks/<family>/<id>.py`` with ``ID`` and ``check``."""
