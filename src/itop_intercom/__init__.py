"""itop-intercom: Intercom Inbox app and conversation sync for iTop."""

__version__ = "0.1.0"
