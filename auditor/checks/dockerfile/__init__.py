"""Dockerfile controls (DF)."""
