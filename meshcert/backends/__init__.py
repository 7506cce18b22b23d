"""Where simulators run: local processes, containers and their image, free ports."""
