"""JSON lines timestamps with a UTC offset are converted to UTC, never truncated, whatever the
time zone of the warehouse's session."""

from __future__ import annotations

import json
from datetime import datetime

from connector_fixtures import source_table

from pipelines.ingest.files import load_file_table
from pipelines.periods import Period

JUN = Period(2026, 6)


def test_offsets_become_utc_and_plain_times_stay_as_written(duck, tmp_path):
    duck.execute("set TimeZone = 'America/New_York'")
    rows = [
        {"event_id": "E-1", "happened_at": "2026-06-03T10:00:00+02:00"},
        {"event_id": "E-2", "happened_at": "2026-06-03T10:00:00Z"},
        {"event_id": "E-3", "happened_at": "2026-06-03 10:00:00"},
        {"event_id": "E-4", "happened_at": "2026-06-03T10:00:00.5-05:30"},
    ]
    (tmp_path / "events.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    table = source_table(
        {
            "source": "site",
            "connector": {"kind": "file"},
            "tables": [
                {
                    "name": "events",
                    "path": "events.jsonl",
                    "format": "jsonl",
                    "date_column": "happened_at",
                    "key": ["event_id"],
                    "columns": [
                        {"name": "event_id", "type": "varchar", "nullable": False},
                        {"name": "happened_at", "type": "timestamp", "nullable": False},
                    ],
                }
            ],
        }
    )
    load_file_table(duck, table, JUN, JUN, tmp_path, "run", as_of=datetime(2026, 7, 1))
    assert duck.execute(
        "select event_id, happened_at from raw.site_events order by 1"
    ).fetchall() == [
        ("E-1", datetime(2026, 6, 3, 8, 0)),
        ("E-2", datetime(2026, 6, 3, 10, 0)),
        ("E-3", datetime(2026, 6, 3, 10, 0)),
        ("E-4", datetime(2026, 6, 3, 15, 30, 0, 500000)),
    ]
