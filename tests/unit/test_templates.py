"""The templates only place what Python decided: no label maps, no arithmetic, one environment."""

from __future__ import annotations

import re

import pytest

from pipelines.report import labels, palette
from pipelines.report.templating import template_environment
from pipelines.settings import PROJECT_ROOT

TEMPLATES = PROJECT_ROOT / "reports" / "templates"
PIPELINES = PROJECT_ROOT / "pipelines"
# What is between {{ }} or {% %}, string literals blanked out ('Within a range' is no arithmetic).
_TAG = re.compile(r"\{\{(.*?)\}\}|\{%-?(.*?)-?%\}", re.S)
_STRING = re.compile(r"\"[^\"]*\"|'[^']*'")
_ARITHMETIC = re.compile(r"[\w)\]]\s*[-+*/%]\s*[\w(]")
_MAP = re.compile(r"\bset\s+\w+\s*=\s*[{\[(]")


def _tags():
    for path in sorted(TEMPLATES.rglob("*.*")):
        for match in _TAG.finditer(path.read_text(encoding="utf-8")):
            code = _STRING.sub('""', match.group(1) or match.group(2))
            yield path.relative_to(TEMPLATES).as_posix(), code.strip()


def test_templates_hold_no_label_maps():
    maps = [f"{name}: {code}" for name, code in _tags() if _MAP.search(code)]
    assert maps == [], "label maps belong in pipelines/report/labels.py"


def test_templates_do_no_arithmetic():
    sums = [f"{name}: {code}" for name, code in _tags() if _ARITHMETIC.search(code)]
    assert sums == [], "work it out in pipelines/report/view.py or a filter"


def test_one_jinja_environment_serves_the_report_and_the_emails():
    made = [
        path.relative_to(PROJECT_ROOT).as_posix()
        for path in sorted(PIPELINES.rglob("*.py"))
        if "jinja2.Environment(" in path.read_text(encoding="utf-8")
    ]
    assert made == ["pipelines/report/templating.py"]
    env = template_environment(TEMPLATES)
    for name in (
        "scorecard.html",
        "email/scorecard.html",
        "email/scorecard.txt",
        "email/notice.txt",
    ):
        env.get_template(name)
    assert env.from_string("{{ x }}").render(x="<b>") == "&lt;b&gt;"
    assert env.autoescape("email/scorecard.html") and env.autoescape("scorecard.html")
    assert not env.autoescape("email/scorecard.txt")  # plain text is not HTML-escaped


@pytest.mark.parametrize(
    ("direction", "label", "arrow"),
    [
        ("higher_is_better", "Higher is better", "\u2191"),
        ("lower_is_better", "Lower is better", "\u2193"),
        ("within_range", "Within a range", "\u2194"),
        ("sideways", "sideways", ""),
    ],
)
def test_direction_labels_and_arrows(direction, label, arrow):
    assert (labels.direction_label(direction), labels.direction_arrow(direction)) == (label, arrow)


def test_unit_labels_name_the_reports_currency():
    assert labels.unit_label("usd", "EUR") == "Currency (EUR)"
    assert labels.unit_label("pct", "EUR") == "Percent"
    assert labels.unit_label("widgets", "EUR") == "widgets"


def test_perspective_bands_repeat_after_four():
    assert [palette.perspective_band(n) for n in range(1, 7)] == [1, 2, 3, 4, 1, 2]
