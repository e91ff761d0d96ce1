"""AR: the architecture document against the deployment (issue 13)."""
