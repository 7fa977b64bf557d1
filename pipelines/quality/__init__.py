"""Data quality: the catalog's expectations run with Great Expectations on each month's raw rows."""
