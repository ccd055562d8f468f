"""Errors every layer may raise or catch, kept below every package so none imports upwards."""

from __future__ import annotations


class NotConfigured(Exception):
    """A setting the operation needs is missing (reported to the admin, never a crash)."""
