"""Typed settings (TOML file + environment) and the import of the PHP extension's settings."""

from itop_intercom.settings.loader import SettingsError, load_settings
from itop_intercom.settings.model import ResolvedWorkspace, Settings

__all__ = ("ResolvedWorkspace", "Settings", "SettingsError", "load_settings")
