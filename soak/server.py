"""gunicorn with the production configuration, run as an unprivileged user on 127.0.0.1.

Not as root: root writes through any permission, so an evidence folder made unwritable would
still take files. Its access log goes to ``access.log`` and its error log (the app's log lines
included) to ``error.log`` in the run directory, appended to across restarts.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import requests

ROOT = Path(__file__).resolve().parent.parent
RUN_AS = os.environ.get("GUARANTEE_SOAK_USER", "nobody")


def run_as() -> tuple[int, int]:
    entry = pwd.getpwnam(RUN_AS)
    return entry.pw_uid, entry.pw_gid


def _blocked_folder(path: Path) -> Path | None:
    """The first folder above ``path`` that others may not pass through, if any."""
    for parent in reversed(path.parents):
        if not parent.stat().st_mode & 0o001:
            return parent
    return None


def as_runner(command: list[str], stash: Path) -> list[str]:
    """``command`` run as the unprivileged user (setpriv). When this venv's interpreter lives
    where that user cannot pass (pyenv under a 0700 /root), the command runs in a mount
    namespace of its own in which that folder is an empty 0755 tmpfs with only the
    interpreter's tree bound back in: nothing changes for any other process, and the
    interpreter, its version and the venv are exactly the ones the tests use."""
    uid, gid = run_as()
    drop = ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups", *command]
    interpreter = Path(sys.executable).resolve()
    blocked = _blocked_folder(interpreter)
    if blocked is None:
        return drop
    needed = blocked / interpreter.relative_to(blocked).parts[0]
    stash.mkdir(exist_ok=True)
    script = (
        f"set -e; mount --bind '{needed}' '{stash}'; mount -t tmpfs -o mode=755,size=1m tmpfs '{blocked}'; "
        f"mkdir -p '{needed}'; mount --move '{stash}' '{needed}'; exec \"$@\""
    )
    return ["unshare", "--mount", "--propagation", "private", "--", "sh", "-c", script, "sh", *drop]


def give_to_runner(*paths: Path) -> None:
    """Hand files and folders (recursively) to the user gunicorn runs as."""
    uid, gid = run_as()
    for path in paths:
        if not path.exists():
            continue
        os.chown(path, uid, gid)
        if path.is_dir():
            for folder, dirs, files in os.walk(path):
                for name in dirs + files:
                    os.chown(os.path.join(folder, name), uid, gid, follow_symlinks=False)


class Gunicorn:
    def __init__(self, run_dir: Path, port: int, env: dict[str, str], workers: int) -> None:
        self.run_dir = run_dir
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        self.env = env
        self.access_log = run_dir / "access.log"
        self.error_log = run_dir / "error.log"
        self.command = [
            str(Path(sys.executable).parent / "gunicorn"),
            "--config",
            str(ROOT / "gunicorn.conf.py"),
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--no-control-socket",
            "wsgi:app",
        ]
        self.stash = run_dir / "mnt"
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def start(self, timeout: float = 90) -> None:
        with self.access_log.open("ab") as out, self.error_log.open("ab") as err:
            self.process = subprocess.Popen(  # noqa: S603 (our own command line)
                as_runner(self.command, self.stash), cwd=ROOT, env=self.env, stdout=out, stderr=err
            )
        self.starts += 1
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn stopped at start; see {self.error_log}")
            try:
                if requests.get(self.base + "/readyz", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn was not ready within {timeout:.0f}s; see {self.error_log}")

    def workers(self) -> list[psutil.Process]:
        if self.process is None:
            return []
        try:
            return list(psutil.Process(self.process.pid).children())
        except psutil.NoSuchProcess:
            return []

    def kill_worker(self) -> int | None:
        """kill -9 a random worker; the master starts another."""
        workers = self.workers()
        if not workers:
            return None
        victim = random.choice(workers)  # noqa: S311 (not for secrets)
        try:
            victim.send_signal(signal.SIGKILL)
        except psutil.NoSuchProcess:
            return None
        return int(victim.pid)

    def hup(self) -> None:
        """SIGHUP: gunicorn reloads its configuration and replaces its workers gracefully."""
        if self.process is not None:
            self.process.send_signal(signal.SIGHUP)

    def kill_master(self, orphan_grace: float = 45) -> dict[str, object]:
        """kill -9 the master; its workers must notice and exit by themselves (they are only
        killed here, and that reported, when they outlive ``orphan_grace`` seconds)."""
        assert self.process is not None
        orphans = self.workers()
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        started = time.monotonic()
        _, alive = psutil.wait_procs(orphans, timeout=orphan_grace)
        waited = time.monotonic() - started
        for proc in alive:
            with contextlib.suppress(psutil.NoSuchProcess):
                proc.kill()
        psutil.wait_procs(alive, timeout=10)
        return {
            "workers": len(orphans),
            "workers_exited_by_themselves": len(orphans) - len(alive),
            "workers_killed_by_harness": len(alive),
            "seconds_until_gone": round(waited, 1),
        }

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        workers = self.workers()
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        psutil.wait_procs(workers, timeout=10)
