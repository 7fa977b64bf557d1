"""Helpers of the delivery tests: a runnable tiny data set, SMTP environments, fast settings."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

from pipelines.delivery.message import Attachment, parse_sender, scorecard_message
from pipelines.delivery.summary import assess
from pipelines.delivery.transport import SMTP_ENVIRONMENT
from pipelines.report.templating import template_environment
from pipelines.settings import PROJECT_ROOT

FAST = {"backoff_seconds": 0.01, "backoff_max_seconds": 0.05, "timeout_seconds": 5.0}


# One typed value per column type, dated long before the months the tests run.
_OLD_ROW = {
    "varchar": "x",
    "integer": "0",
    "bigint": "0",
    "double": "0",
    "decimal": "0",
    "date": "2023-06-15",
    "timestamp": "2023-06-15 00:00:00",
    "boolean": "false",
}


def fill_missing_exports(catalog, home: Path) -> None:
    """For each catalog table tests/data/tiny has no file for, a CSV whose only row lies years
    before the tested months: the file loads, and the table has no rows in those months."""
    for table in catalog.tables:
        path = home / table.table.path
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            columns = table.table.columns
            path.write_text(
                ",".join(c.name for c in columns)
                + "\n"
                + ",".join(_OLD_ROW[c.type] for c in columns)
                + "\n"
            )


def clear_smtp_environment(monkeypatch) -> None:
    """No SCORECARD_SMTP_* variable set: the embedded default (the outbox)."""
    for var in SMTP_ENVIRONMENT.values():
        monkeypatch.delenv(var, raising=False)


def set_smtp_environment(monkeypatch, **values: str) -> None:
    """Set SCORECARD_SMTP_<NAME> for each value (host, port, security, user, password…)."""
    clear_smtp_environment(monkeypatch)
    for name, value in values.items():
        monkeypatch.setenv(SMTP_ENVIRONMENT[name], value)


def scorecard_email(
    report, recipient_list, *, to=None, attachment: Attachment | None = None
) -> EmailMessage:
    """The scorecard email of `report` to a list, built as delivery builds it (a fixed sender
    and message id; a tiny PDF unless `attachment` is given)."""
    return scorecard_message(
        report,
        assess(report),
        recipient_list,
        to or recipient_list.recipients,
        sender=parse_sender("Scorecard <scorecard@northwind.example>"),
        message_id="<1.scorecard@northwind.example>",
        attachment=attachment or Attachment(Path("scorecard.pdf"), b"%PDF-1.4\n", "scorecard.pdf"),
        env=template_environment(PROJECT_ROOT / "reports" / "templates"),
    )
