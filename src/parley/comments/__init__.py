"""Comments: threads, comments and their edit history, votes, reader reports, idempotency."""
