"""Administration by operators: accounts, API keys, retention, one customer's data, all audited."""
