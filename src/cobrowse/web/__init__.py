"""ASGI endpoints: customer socket and script, agent console and socket, pages."""
