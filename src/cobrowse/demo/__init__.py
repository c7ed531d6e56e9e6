"""`cobrowse demo`: the server on embedded defaults, a sample website and a demo agent."""
