"""Integrations with training libraries."""
