"""What an operator sees: Prometheus metrics and one JSON log line per request."""
