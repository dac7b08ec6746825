"""Staff console services: search, transcripts, hand-off and export, as plain functions."""
