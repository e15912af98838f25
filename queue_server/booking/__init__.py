"""Templates of the citizen's booking pages (queue_server/api/routes/booking.py)."""
