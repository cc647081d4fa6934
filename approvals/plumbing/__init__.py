"""Site plumbing: request ids and logs, security headers, login lockout, auth, error pages, embedded database."""
