"""Live state: the sessions a node serves right now and the sockets of their parties."""
