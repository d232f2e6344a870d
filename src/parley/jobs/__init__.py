"""Background jobs: a small durable queue on the database, with retries, outside the request path."""
