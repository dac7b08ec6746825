"""Generation backends: the engine in process, or workers behind a Redis Stream."""
