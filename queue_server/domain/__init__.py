"""The queue engine: pure domain code (no I/O, no database, no MQTT), clock injected."""
