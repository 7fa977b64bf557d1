"""Scores and statuses: KPI against target, rolled up to objective, perspective and overall."""
