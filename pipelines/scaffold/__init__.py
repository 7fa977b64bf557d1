"""`scorecard new`: commented templates for a new source or KPI, written where the catalog reads
them."""
