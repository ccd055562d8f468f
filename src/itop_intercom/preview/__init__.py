"""The canvas preview page (an admin tool, off unless `server.preview` is set)."""
