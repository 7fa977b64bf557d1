"""A small tmpfs mounted for a test that needs a full disk (root only; CI runs as root and must
be able to mount one, elsewhere the test is skipped)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


@contextmanager
def mounted_tmpfs(mount_point: Path, size_mib: int) -> Iterator[Path]:
    """A tmpfs of `size_mib` MiB at `mount_point` (made if missing), unmounted afterwards."""
    mount_point.mkdir(parents=True, exist_ok=True)
    mounted = (
        os.geteuid() == 0
        and not subprocess.run(
            [
                "mount",
                "-t",
                "tmpfs",
                "-o",
                f"size={size_mib}m,mode=0700",
                "tmpfs",
                str(mount_point),
            ],
            capture_output=True,
            check=False,
        ).returncode
    )
    if not mounted:
        if os.environ.get("CI"):
            pytest.fail("CI runs as root and must be able to mount a tmpfs")
        pytest.skip("mounting a tmpfs needs root")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)
