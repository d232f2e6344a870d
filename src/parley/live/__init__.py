"""Live updates: events about a thread (new comment, edit, removal, vote counts) for SSE readers."""
