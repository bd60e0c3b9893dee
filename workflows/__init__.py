"""casework's delivery layer: the composition root, the web app, the CLI and the scheduler."""
