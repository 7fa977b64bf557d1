"""A render that ends badly leaves nothing: a killed render's files are swept by the next one,
and a render past its cap is one line naming the setting, never the child's command line."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from report_factory import generated_report

from pipelines.report import pdf, render
from pipelines.settings import PROJECT_ROOT

ASSETS = PROJECT_ROOT / "reports"
TESTS = Path(__file__).parent.parent  # the helpers beside conftest.py
# A render of the demo-sized report in a process of its own, to be killed half way.
RENDER_SCRIPT = """
import sys
from report_factory import report_from_catalog
from pipelines.catalog import load_catalog
from pipelines.report import render
from pipelines.settings import PROJECT_ROOT
report = report_from_catalog(load_catalog(PROJECT_ROOT / "definitions", PROJECT_ROOT / "sql"))
render.write_report(report, PROJECT_ROOT / "reports", __import__("pathlib").Path(sys.argv[1]))
"""


def _pdf_children(out: Path) -> list[int]:
    """The PDF render children writing into `out` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().rpartition(")")[2].split()[0]
        except (OSError, IndexError):
            continue
        if (
            state != "Z"
            and b"pipelines.report.pdf" in command
            and any(str(out).encode() in part for part in command)
        ):
            found.append(int(entry.name))
    return found


def _wait_for(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"waited {seconds} s for {what}")
        time.sleep(0.05)


def _kill_a_render_half_way(out: Path) -> None:
    """Start rendering into `out` in another process and SIGKILL that process while its PDF
    child is rendering; wait until the orphaned child is gone too."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(PROJECT_ROOT), str(TESTS)]))
    parent = subprocess.Popen([sys.executable, "-c", RENDER_SCRIPT, str(out)], env=env)
    try:
        _wait_for(lambda: _pdf_children(out), 60, "the PDF child to start")
        time.sleep(0.5)  # the child is rendering; the parent waits for it
        assert parent.poll() is None, "the render finished before it could be killed"
        parent.send_signal(signal.SIGKILL)
        parent.wait(10)
    finally:
        if parent.poll() is None:
            parent.kill()
    _wait_for(lambda: not _pdf_children(out), 30, "the orphaned PDF child to end")


@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="needs Linux's /proc")
def test_a_killed_render_leaves_nothing_after_the_next_render(tmp_path):
    out = tmp_path / "reports" / "2026-01"
    _kill_a_render_half_way(out)
    left = sorted(p.name for p in out.iterdir())
    assert any(name.startswith(".scorecard") for name in left), left  # what the kill left
    assert "scorecard.pdf" not in left

    render.write_report(generated_report(objectives=2, kpis=2, links=1, seed=3), ASSETS, out)
    assert sorted(p.name for p in out.iterdir()) == ["scorecard.html", "scorecard.pdf"]


def test_the_sweep_takes_only_stale_files_no_render_holds(tmp_path):
    reports = tmp_path / "reports"
    other_month, lists = reports / "2026-01", reports / "2026-02" / "lists" / "board"
    lists.mkdir(parents=True)
    other_month.mkdir()
    old = time.time() - 60
    stale = [
        Path(tempfile.mkstemp(prefix=".scorecard.pdf.", suffix=".tmp", dir=d)[1])
        for d in (other_month, lists)
    ]
    stale.append(Path(tempfile.mkdtemp(prefix=pdf.SCRATCH_PREFIX, dir=other_month)))
    (stale[-1] / "font.woff").write_bytes(b"x")
    in_use = Path(tempfile.mkdtemp(prefix=pdf.SCRATCH_PREFIX, dir=other_month))
    for path in [*stale, in_use]:
        os.utime(path, (old, old))
    fresh = Path(tempfile.mkstemp(prefix=".scorecard.html.", suffix=".tmp", dir=other_month)[1])
    kept_report = other_month / "scorecard.pdf"
    kept_report.write_bytes(b"%PDF")
    os.utime(kept_report, (old, old))

    held = pdf.hold(in_use)  # a render still running in another process holds its folder
    try:
        swept = render.sweep_stale(reports, before=time.time() - 30)
    finally:
        os.close(held)
    assert sorted(swept) == sorted(stale)
    assert not any(path.exists() for path in stale)
    assert in_use.is_dir() and fresh.is_file() and kept_report.is_file()


def test_a_render_past_its_cap_is_one_line_naming_the_setting(tmp_path):
    report = generated_report(objectives=2, kpis=2, links=1, seed=3)
    with pytest.raises(render.RenderTimeout) as caught:
        render.write_report(report, ASSETS, tmp_path / "out", timeout=0.01)
    message = str(caught.value)
    assert message.startswith("the PDF render took longer than 0.01 s")
    assert "report.render_timeout_seconds in definitions/scorecard.yaml" in message
    assert "\n" not in message and sys.executable not in message
    assert caught.value.__cause__ is None  # not the subprocess error with the command line
    assert list((tmp_path / "out").iterdir()) == []


def test_a_render_timeout_reaches_the_run_as_the_project_error(tmp_path):
    """Through Dagster, as `scorecard run` reports a failed step: one line, no command line."""
    from dagster import job, op

    from pipelines.runner import _outcome

    report = generated_report(objectives=2, kpis=2, links=1, seed=3)

    @op
    def report_scorecard():
        render.write_report(report, ASSETS, tmp_path / "out", timeout=0.01)

    @job
    def render_job():
        report_scorecard()

    outcome = _outcome(render_job.execute_in_process(raise_on_error=False))
    assert not outcome.success
    [error] = outcome.errors
    assert error.startswith("report_scorecard: the PDF render took longer than 0.01 s"), error
    assert "report.render_timeout_seconds" in error
    assert "\n" not in error and "Command" not in error and sys.executable not in error
