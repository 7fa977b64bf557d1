"""KPI values: each KPI's SQL evaluated over the month and the longer windows."""
