"""Connectors that bring a source table's months into the warehouse's raw schema."""
