"""Balanced Scorecard pipeline: the Dagster code location and the logic behind it."""
