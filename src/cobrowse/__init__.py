"""cobrowse: a self-hosted co-browsing server for customer support."""

__version__ = "0.1.0"
