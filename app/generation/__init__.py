"""Generation: one job runner over the engine, in process (embedded) or in workers behind a Redis Stream."""
