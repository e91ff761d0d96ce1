"""One parsed, immutable model per file type; every node a rule can point at has a ``span``."""
