"""Tutoring services: every write goes through here (see ../shared/STYLE.md)."""
