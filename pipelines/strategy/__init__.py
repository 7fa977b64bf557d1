"""Strategy-office content derived per period: initiatives' flags and the month's highlights."""
