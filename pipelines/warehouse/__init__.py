"""The DuckDB warehouse: connections, its schema, and the month-by-month writes."""
