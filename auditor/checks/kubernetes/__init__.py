"""KS controls: checks on the scan's ``KubernetesSet``."""
