"""Dagster wiring by pipeline stage: resources, ingest, KPIs, scores, reports, jobs and
schedules."""
