"""Fiscal quarters and years as review periods, initiatives' month-end updates as the quarter's
review reads them, and the recipient lists that take board packs."""

from __future__ import annotations

from dataclasses import replace

import pytest
from pydantic import ValidationError

from pipelines.catalog.models import Initiative, RecipientList
from pipelines.periods import Period, PeriodError, ReviewPeriod, months_between
from pipelines.report.initiatives import initiative_changes


@pytest.mark.parametrize("start", range(1, 13))
def test_every_month_lies_in_one_quarter_and_the_quarters_tile_the_fiscal_year(start):
    year = ReviewPeriod.parse("2026", start)
    quarters = [ReviewPeriod.parse(f"2026-Q{q}", start) for q in range(1, 5)]
    assert [m for q in quarters for m in q.months] == year.months
    assert year.first == Period(2026, start) and len(year.months) == 12
    closing = [p for p in months_between(year.first, year.last) if ReviewPeriod.closed_by(p, start)]
    assert closing == [q.last for q in quarters]
    assert ReviewPeriod.closed_by(year.last, start) == [quarters[3], year]


@pytest.mark.parametrize(
    ("key", "start", "label", "span"),
    [
        ("2026-Q3", 1, "Q3 2026", "July to September 2026"),
        ("2026", 1, "2026", "January to December 2026"),
        ("2026-Q3", 4, "Q3 FY 2026/27", "October to December 2026"),
        ("2026-Q4", 4, "Q4 FY 2026/27", "January to March 2027"),
        ("2099", 7, "FY 2099/00", "July 2099 to June 2100"),
    ],
)
def test_labels_name_the_fiscal_year_it_starts_in(key, start, label, span):
    review = ReviewPeriod.parse(key, start)
    assert (review.label, review.span, review.key) == (label, span, key)


def test_previous_and_year_ago_cross_fiscal_years():
    q1 = ReviewPeriod.parse("2026-Q1", 4)
    assert (q1.previous.key, q1.year_ago.key) == ("2025-Q4", "2025-Q1")
    assert ReviewPeriod.parse("2026", 4).previous.key == "2025"
    assert q1.shift(9).key == "2028-Q2"


@pytest.mark.parametrize("text", ["2026-Q5", "2026-Q0", "26-Q1", "2026Q1", "1850", "Q3"])
def test_a_period_that_is_no_review_is_refused_in_one_line(text):
    with pytest.raises(PeriodError, match="neither a month .* nor a fiscal year"):
        ReviewPeriod.parse(text)


BASE = {
    "id": "slotting",
    "name": "Re-slot the warehouse",
    "owner": "Lena Sørensen, COO",
    "objectives": ["deliver_reliably"],
    "start": "2026-03",
    "deadline": "2026-08-31",
    "status": "behind",
    "percent_complete": 60,
    "updates": [
        {"month": "2026-03", "status": "on_schedule", "percent_complete": 5},
        {"month": "2026-08", "status": "behind", "percent_complete": 55, "note": "Racking late"},
        {"month": "2026-10", "status": "behind", "percent_complete": 60},
    ],
}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"status": "on_schedule"}, "latest update \\(2026-10: behind, 60 %\\) differs"),
        ({"updates": list(reversed(BASE["updates"]))}, "month order"),
        (
            {"updates": [{"month": "2026-01", "status": "behind", "percent_complete": 60}]},
            "before the initiative's start 2026-03",
        ),
    ],
)
def test_the_catalog_rejects_updates_that_contradict(change, message):
    with pytest.raises(ValidationError, match=message):
        Initiative.model_validate({**BASE, **change})


def test_status_as_of_a_month_is_the_latest_update_by_then():
    slotting = Initiative.model_validate(BASE)
    assert slotting.as_of(Period(2026, 2)) == ("not_started", 0)
    assert slotting.as_of(Period(2026, 7)) == ("on_schedule", 5)
    assert slotting.as_of(Period(2026, 12)) == ("behind", 60)
    plain = Initiative.model_validate({**BASE, "updates": []})
    assert plain.as_of(Period(2026, 2)) == ("behind", 60)  # no history: as it is now


def test_the_quarters_review_says_what_changed(catalog):
    done = {
        **BASE,
        "id": "audits",
        "start": "2025-10",
        "deadline": "2026-06-30",
        "status": "completed",
        "percent_complete": 100,
        "updates": [
            {"month": "2026-03", "status": "on_schedule", "percent_complete": 60},
            {"month": "2026-05", "status": "completed", "percent_complete": 100},
        ],
    }
    later = {**BASE, "id": "academy", "start": "2026-05", "deadline": "2027-03-31"}
    later |= {"status": "not_started", "percent_complete": 0, "updates": []}
    initiatives = [Initiative.model_validate(i) for i in (BASE, done, later)]
    shown = replace(catalog, initiatives=initiatives)
    q2 = {c.initiative.id: c for c in initiative_changes(shown, Period(2026, 4), Period(2026, 6))}
    assert q2["audits"].change == "completed" and q2["audits"].before == "on_schedule"
    assert q2["academy"].change == "slipped"  # its start fell in the quarter; not started
    assert "slotting" not in q2  # on schedule all quarter
    q3 = {c.initiative.id: c for c in initiative_changes(shown, Period(2026, 7), Period(2026, 9))}
    assert (q3["slotting"].change, q3["slotting"].note) == ("slipped", "Racking late")
    assert set(q3) == {"slotting"}


def test_a_list_limited_to_perspectives_takes_no_pack():
    people = [{"name": "A B", "email": "a@example.com"}]
    with pytest.raises(ValidationError, match="cannot take packs"):
        RecipientList.model_validate(
            {"id": "q", "recipients": people, "packs": ["quarterly"], "perspectives": ["x"]}
        )
    with pytest.raises(ValidationError, match="would get nothing"):
        RecipientList.model_validate({"id": "b", "recipients": people, "monthly": False})
    board = RecipientList.model_validate(
        {"id": "b", "recipients": people, "monthly": False, "packs": ["annual"]}
    )
    assert board.packs == ["annual"]


def test_months_as_runs_of_consecutive_months():
    from pipelines.periods import Period, month_runs

    months = ["2025-11", "2025-12", "2026-01", "2026-03", "2026-05", "2026-06"]
    assert [(a.key, b.key) for a, b in month_runs(months)] == [
        ("2025-11", "2026-01"),
        ("2026-03", "2026-03"),
        ("2026-05", "2026-06"),
    ]
    assert month_runs([]) == []
    assert month_runs(["2026-02"]) == [(Period(2026, 2), Period(2026, 2))]
