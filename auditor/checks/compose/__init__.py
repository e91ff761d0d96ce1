"""Docker Compose controls (DC)."""
