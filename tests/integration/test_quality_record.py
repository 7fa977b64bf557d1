"""A check that cannot record its verdicts fails the load step (never a silent pass)."""

from __future__ import annotations

from demo_homes import FIRST, home_on

from pipelines.defs.jobs import HISTORY_JOB
from pipelines.quality import validate
from pipelines.runner import run_job


def test_a_check_that_cannot_record_its_verdicts_fails_the_step(
    tmp_path, quarter_exports, monkeypatch
):
    paths = home_on(tmp_path, quarter_exports, "unrecorded")
    real_write = validate.write_verdicts

    def write(con, verdicts, run_id):
        if verdicts and verdicts[0].table_key == "finance.gl_entries":
            raise OSError("quality results could not be written: disk gone")
        return real_write(con, verdicts, run_id)

    monkeypatch.setattr(validate, "write_verdicts", write)
    outcome = run_job(paths, HISTORY_JOB, FIRST, FIRST)

    assert not outcome.success
    assert any("disk gone" in error for error in outcome.errors)
