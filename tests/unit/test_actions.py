"""The reviews' decisions and actions: what the catalog accepts, and how a month sees them."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
import yaml
from pydantic import ValidationError

from pipelines.catalog import CatalogError, load_catalog
from pipelines.catalog.models import Action
from pipelines.periods import Period
from pipelines.report.initiatives import action_line, action_lines

BASE = {
    "id": "support_hiring",
    "decision": "The support backlog is a staffing gap.",
    "action": "Hire two senior support engineers.",
    "owner": "Priya Raman, VP Customer Success",
    "decided": "2026-08",
    "due": "2026-11-30",
    "status": "in_progress",
}


def action(**fields) -> Action:
    return Action.model_validate({**BASE, **fields})


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"status": "done"}, "status done needs closed: the date it was done, YYYY-MM-DD"),
        ({"closed": "2026-11-02"}, "closed is the date .*; its status is in_progress"),
        ({"due": "2026-07-31"}, "due 2026-07-31 is before the month it was decided in"),
        ({"due": "2026-02-30"}, "due '2026-02-30' is not a calendar date"),
        ({"status": "finished"}, "status"),
        ({"kpis": ["Ticket Resolution"]}, "kpis"),
    ],
)
def test_the_catalog_rejects_an_action_that_cannot_be(fields, message):
    with pytest.raises(ValidationError, match=message):
        action(**fields)


def test_overdue_is_derived_from_the_due_date_as_of_the_month(catalog):
    late = action_line(catalog, action(due="2026-10-20"), date(2026, 10, 31))
    assert (late.overdue, late.days_overdue) == (True, 11)
    on_time = action_line(catalog, action(), date(2026, 10, 31))
    assert (on_time.overdue, on_time.days_overdue) == (False, 0)
    done = action(due="2026-10-20", status="done", closed="2026-10-25")
    assert not action_line(catalog, done, date(2026, 10, 31)).overdue
    # seen from a month before it was closed, it was still open (and late)
    closed_later = done.model_copy(update={"closed": "2026-11-03"})
    earlier = action_line(catalog, closed_later, date(2026, 10, 31))
    assert (earlier.status, earlier.closed, earlier.overdue) == ("in_progress", None, True)


def test_a_month_lists_what_was_decided_by_then_open_or_closed_in_it(catalog):
    actions = (
        action(id="late", due="2026-10-10"),
        action(id="open"),
        action(id="closed_now", status="done", closed="2026-10-12"),
        action(id="closed_before", status="done", closed="2026-09-12"),
        action(id="decided_later", decided="2026-11"),
    )
    lines = action_lines(replace(catalog, actions=actions), Period(2026, 10))
    assert [a.id for a in lines] == ["late", "open", "closed_now"]


def test_an_unknown_kpi_or_a_repeated_id_is_named_with_the_file(copied_catalog):
    path = copied_catalog / "definitions/actions.yaml"
    data = yaml.safe_load(path.read_text())
    data["actions"][0]["kpis"] = ["no_such_kpi"]
    data["actions"].append(dict(data["actions"][1]))
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(CatalogError) as caught:
        load_catalog(copied_catalog / "definitions", copied_catalog / "sql")
    problems = caught.value.problems
    assert any(
        "actions.yaml: support_hiring.kpis: unknown KPI 'no_such_kpi'" in p for p in problems
    )
    assert any("actions.yaml" in p and "engagement_pulse" in p for p in problems), problems


def test_a_catalog_without_actions_yaml_has_none(copied_catalog):
    (copied_catalog / "definitions/actions.yaml").unlink()
    assert load_catalog(copied_catalog / "definitions", copied_catalog / "sql").actions == ()
