"""The rules: keyword-only async functions taking a session and, for API calls, a principal."""
