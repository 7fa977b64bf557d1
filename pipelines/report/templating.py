"""The one Jinja environment of the report and the emails, over reports/templates/.

The report renders `scorecard.html`; the emails render `email/scorecard.html`,
`email/scorecard.txt` and `email/notice.txt` from the same environment, so every template sees
the same filters (pipelines.report.formatting) in the organization's locale. HTML templates and
template strings are autoescaped; `.txt` templates are plain text. An undefined name is an
error, never an empty string.
"""

from __future__ import annotations

from pathlib import Path

import jinja2

from pipelines.report.formatting import register_filters


def template_environment(templates_dir: Path, locale: str = "en_US") -> jinja2.Environment:
    """The environment over `templates_dir` (reports/templates) with the report filters."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir)),
        autoescape=jinja2.select_autoescape(
            enabled_extensions=("html",),
            disabled_extensions=("txt",),
            default_for_string=True,
            default=True,
        ),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    register_filters(env, locale)
    return env
