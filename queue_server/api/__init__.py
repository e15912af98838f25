"""The queue server's HTTP API (FastAPI), built by `create_app`."""
