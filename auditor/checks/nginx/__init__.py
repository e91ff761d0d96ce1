"""nginx controls (NG)."""
