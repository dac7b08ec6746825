"""The store's knowledge base: seed files, versioned entries in the database, retrieval per message."""
