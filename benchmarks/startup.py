"""Python and Dagster start-up alone: import the CLI and the runner, build the Definitions.

Run as `python -m benchmarks.startup` with SCORECARD_HOME set; prints one JSON line with the
seconds spent importing and building. The benchmark measures the whole process around it, so the
interpreter's own start is in its wall time too.
"""

from __future__ import annotations

import json
import sys
import time


def main() -> int:
    """Import, build the Definitions and resolve the monthly job, timing each."""
    t0 = time.perf_counter()
    import pipelines.cli  # noqa: F401  (what `scorecard` imports first)
    from pipelines.definitions import build_definitions
    from pipelines.defs.jobs import MONTHLY_JOB
    from pipelines.runner import instance_for
    from pipelines.settings import runtime_paths

    t1 = time.perf_counter()
    paths = runtime_paths()
    build_definitions(paths).resolve_job_def(MONTHLY_JOB)
    t2 = time.perf_counter()
    with instance_for(paths):
        pass
    t3 = time.perf_counter()
    print(
        json.dumps(
            {
                "import_s": round(t1 - t0, 3),
                "definitions_s": round(t2 - t1, 3),
                "instance_s": round(t3 - t2, 3),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
