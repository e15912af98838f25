"""One router per area; `queue_server.api.app` includes them all."""
