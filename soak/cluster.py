"""A PostgreSQL cluster of the run's own: its data directory, a free port, run as the postgres user.

initdb, start, restart (``-m immediate`` or ``-m fast``) and stop all go through ``pg_ctl`` as
the ``postgres`` OS user (``runuser``), as an operator would; nothing here touches the system's
cluster on 5432.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import time
from pathlib import Path

PG_BIN = Path(os.environ.get("GUARANTEE_PG_BIN", "/usr/lib/postgresql/15/bin"))
OS_USER = "postgres"


def missing() -> str | None:
    """Why a cluster cannot be made here, or None."""
    if os.geteuid() != 0:
        return "the soak harness runs PostgreSQL and gunicorn as other users, so it must run as root"
    for tool in ("initdb", "pg_ctl", "postgres"):
        if not (PG_BIN / tool).exists():
            return f"no {PG_BIN / tool} (set GUARANTEE_PG_BIN to PostgreSQL's bin directory)"
    if shutil.which("runuser") is None:
        return "no runuser"
    try:
        pwd.getpwnam(OS_USER)
    except KeyError:
        return f"no {OS_USER} OS user"
    return None


class Cluster:
    """One throwaway cluster under ``directory`` (data, socket and log)."""

    def __init__(self, directory: Path, port: int, *, fsync: bool = True) -> None:
        self.directory = directory
        self.data = directory / "data"
        self.log = directory / "postgresql.log"
        self.port = port
        self.fsync = fsync
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/guarantee"

    def _as_postgres(self, *command: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603 (our own fixed command lines)
            ["runuser", "-u", OS_USER, "--", *command],  # noqa: S607
            cwd=self.directory,
            capture_output=True,
            text=True,
            check=check,
            timeout=timeout,
        )

    def _pg_ctl(self, *arguments: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self._as_postgres(
            str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), *arguments, check=check
        )

    def init(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        entry = pwd.getpwnam(OS_USER)
        os.chown(self.directory, entry.pw_uid, entry.pw_gid)
        self.directory.chmod(0o700)
        self._as_postgres(
            str(PG_BIN / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-instructions",
        )
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "port": str(self.port),
            "unix_socket_directories": f"'{self.directory}'",
            "fsync": "on" if self.fsync else "off",
            "synchronous_commit": "on",
            "full_page_writes": "on",
            "max_connections": "60",
            "shared_buffers": "64MB",
            "log_line_prefix": "'%m [%p] '",
        }
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write("\n# the soak harness\n")
            for name, value in settings.items():
                conf.write(f"{name} = {value}\n")

    def start(self) -> None:
        self._pg_ctl("start", "-w", "-t", "60")

    def create_database(self) -> None:
        self._as_postgres(
            str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "guarantee"
        )

    def restart(self, mode: str) -> None:
        """``pg_ctl restart -m immediate`` (a crash: recovery from the WAL) or ``-m fast``."""
        self._pg_ctl("restart", "-m", mode, "-w", "-t", "120")

    def postmaster_pid(self) -> int | None:
        try:
            return int((self.data / "postmaster.pid").read_text().splitlines()[0])
        except (OSError, ValueError, IndexError):
            return None

    def kill(self) -> None:
        """SIGKILL the postmaster (its children exit when they notice), then start again."""
        pid = self.postmaster_pid()
        if pid:
            os.kill(pid, signal.SIGKILL)
        time.sleep(1)

    def stop(self) -> None:
        if self.postmaster_pid() is None:
            return
        result = self._pg_ctl("stop", "-m", "fast", "-w", "-t", "60", check=False)
        if result.returncode != 0:
            self._pg_ctl("stop", "-m", "immediate", "-w", "-t", "60", check=False)
