"""Limits on what one GraphQL operation may ask for, enforced before any resolver runs."""
