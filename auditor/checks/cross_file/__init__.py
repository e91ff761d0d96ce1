"""Cross-file (XF) controls: the deployment as one system (see ``auditor.model.deployment``)."""
