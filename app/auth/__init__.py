"""Staff/operator authentication: passwords, signed sessions, CSRF, roles, API keys, login limits."""
