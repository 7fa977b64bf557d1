"""A throwaway PostgreSQL cluster on 127.0.0.1 for the connector tests and the benchmark.

initdb and pg_ctl come from `pg_config --bindir` (or /usr/lib/postgresql/*/bin). PostgreSQL refuses
to run as root, so as root the cluster belongs to the `postgres` system user (created if missing)
and lives in a temporary folder chowned to it; otherwise it runs as the current user.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

SUPERUSER = "scorecard_admin"
SUPERUSER_PASSWORD = "admin-Pw-7c1d"  # noqa: S105 - a throwaway test cluster


def find_bindir() -> Path | None:
    """The folder holding initdb and pg_ctl, or None when PostgreSQL is not installed."""
    candidates = []
    if shutil.which("pg_config"):
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=False)
        candidates.append(out.stdout.strip())
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for folder in candidates:
        if folder and (Path(folder) / "initdb").exists() and (Path(folder) / "pg_ctl").exists():
            return Path(folder)
    return None


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_owner(command: list[str], owner: str | None) -> list[str]:
    return ["runuser", "-u", owner, "--", *command] if owner else command


def _ensure_system_user() -> str:
    if subprocess.run(["id", "-u", "postgres"], capture_output=True, check=False).returncode:
        subprocess.run(["useradd", "--system", "--no-create-home", "postgres"], check=True)
    return "postgres"


@dataclass
class TemporaryPostgres:
    """A running cluster: its port, folder and a superuser URL (password authentication)."""

    bindir: Path
    folder: Path
    port: int
    owner: str | None

    @property
    def url(self) -> str:
        """The superuser's connection URL."""
        return self.url_for(SUPERUSER, SUPERUSER_PASSWORD, "postgres")

    def url_for(self, user: str, password: str, database: str) -> str:
        """A connection URL to this cluster."""
        return f"postgresql://{user}:{password}@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        """Stop the server and delete its folder."""
        subprocess.run(
            _as_owner(
                [
                    str(self.bindir / "pg_ctl"),
                    "-D",
                    str(self.folder / "data"),
                    "-m",
                    "immediate",
                    "stop",
                ],
                self.owner,
            ),
            capture_output=True,
            check=False,
        )
        shutil.rmtree(self.folder, ignore_errors=True)


def start_postgres(bindir: Path) -> TemporaryPostgres:
    """initdb a cluster in a new temporary folder and start it on a free port of 127.0.0.1."""
    owner = _ensure_system_user() if os.geteuid() == 0 else None
    folder = Path(tempfile.mkdtemp(prefix="scorecard-pg-"))
    (folder / "pwfile").write_text(SUPERUSER_PASSWORD + "\n")
    if owner:
        shutil.chown(folder, owner)
        shutil.chown(folder / "pwfile", owner)
    data, port = folder / "data", free_port()
    subprocess.run(
        _as_owner(
            [
                str(bindir / "initdb"),
                "-D",
                str(data),
                "-U",
                SUPERUSER,
                "--auth=scram-sha-256",
                f"--pwfile={folder / 'pwfile'}",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            ],
            owner,
        ),
        capture_output=True,
        check=True,
    )
    options = (
        f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={folder} "
        "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    )
    started = subprocess.run(
        _as_owner(
            [
                str(bindir / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(folder / "server.log"),
                "-o",
                options,
                "-w",
                "-t",
                "60",
                "start",
            ],
            owner,
        ),
        capture_output=True,
        text=True,
        check=False,
    )
    cluster = TemporaryPostgres(bindir, folder, port, owner)
    if started.returncode:
        log = (folder / "server.log").read_text() if (folder / "server.log").exists() else ""
        cluster.stop()
        raise RuntimeError(f"PostgreSQL did not start: {started.stderr}\n{log}")
    return cluster
