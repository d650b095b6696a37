"""Benchmarks of the GraphQL server against a hand-written-SQL floor (not part of the tests)."""
