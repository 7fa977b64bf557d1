"""The delivery wiring: which jobs email, the backfill rule, SMTP settings from the environment,
docs. (`dagster definitions validate` with no SMTP setting: tests/system/test_end_to_end.py.)"""

from __future__ import annotations

import os

import pytest
from dagster import AssetKey
from delivery_support import clear_smtp_environment, set_smtp_environment
from documentation import documentation

from pipelines.catalog.models import Recipient, RecipientList
from pipelines.definitions import build_definitions
from pipelines.defs.delivery import send_decision
from pipelines.defs.resources import smtp_resource
from pipelines.delivery.transport import SMTP_ENVIRONMENT

DELIVERY = AssetKey("delivery_email")


def _selected(defs, job_name: str) -> set[AssetKey]:
    job = defs.resolve_job_def(job_name)
    return set(job.asset_layer.executable_asset_keys)


def test_only_the_monthly_and_delivery_jobs_email(paths, monkeypatch):
    clear_smtp_environment(monkeypatch)
    defs = build_definitions(paths)
    assert DELIVERY in _selected(defs, "monthly_scorecard")
    assert DELIVERY not in _selected(defs, "scorecard_history")
    assert _selected(defs, "scorecard_delivery") == {DELIVERY}
    node = defs.resolve_asset_graph().get(DELIVERY)
    assert node.group_name == "scorecard" and AssetKey("report_scorecard") in node.parent_keys
    assert defs.resolve_sensor_def("scorecard_failure_notice") is not None


def test_smtp_settings_come_from_the_environment_only_when_set(monkeypatch):
    clear_smtp_environment(monkeypatch)
    resource = smtp_resource(os.environ)
    assert resource.settings().host == ""  # the outbox
    set_smtp_environment(monkeypatch, host="mail.example.com", port="2525", password="pw")
    settings = smtp_resource(os.environ).process_config_and_initialize().settings()
    assert (settings.host, settings.port, settings.password) == ("mail.example.com", 2525, "pw")
    assert "pw" not in repr(smtp_resource(os.environ))


@pytest.mark.parametrize(
    ("months", "tags", "explicit", "sends"),
    [
        (1, {}, False, True),
        (1, {"dagster/schedule_name": "monthly_scorecard_schedule"}, False, True),
        (1, {"dagster/backfill": "abc"}, False, False),
        (1, {"scorecard/backfill": "2026-12..2026-12"}, False, False),  # backfill --packs
        (3, {}, False, False),
        (3, {"dagster/backfill": "abc"}, True, True),
        (3, {"scorecard/send_email": "true"}, False, True),
    ],
)
def test_backfills_send_only_when_told(months, tags, explicit, sends):
    assert (send_decision(months, tags, explicit) is None) == sends


def test_the_docs_document_the_smtp_settings_and_the_send_command():
    readme = documentation()
    for var in SMTP_ENVIRONMENT.values():
        assert var in readme, var
    assert "scorecard send --period" in readme and "outbox" in readme
    for model in (RecipientList, Recipient):
        for name in model.model_fields:
            assert f"`{name}`" in readme, f"{model.__name__}.{name} is documented nowhere"


def test_recipient_lists_name_known_perspectives(copied_catalog):
    import yaml

    from pipelines.catalog import CatalogError, load_catalog

    path = copied_catalog / "definitions" / "recipients.yaml"
    data = yaml.safe_load(path.read_text())
    data["lists"][0]["perspectives"] = ["customer", "finance"]
    data["lists"][0].pop("packs", None)  # a list limited to perspectives takes no pack
    data["lists"][0]["incomplete"] = "hold"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    with pytest.raises(CatalogError) as error:
        load_catalog(copied_catalog / "definitions", copied_catalog / "sql")
    assert "recipients.yaml: leadership.perspectives: unknown perspective 'finance'" in str(
        error.value
    )
