"""The service on a clock a test can move, for a live gunicorn server (only the tests serve it).

gunicorn serves ``tests.support.shifted_clock:app``: the production app, whose clock is the
system's moved on by the number of seconds in the file GUARANTEE_TEST_CLOCK_FILE names, read at
every look at the time, so that a test moves every worker's clock at once by writing the file.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path


class ShiftedClock:
    def __init__(self, path: Path) -> None:
        self.path = path

    def now(self) -> datetime:
        try:
            seconds = float(self.path.read_text() or 0)
        except FileNotFoundError:
            seconds = 0
        return datetime.now(UTC) + timedelta(seconds=seconds)

    def move_to(self, shift: timedelta) -> None:
        """From now on, the time is this far after the system's (for every worker)."""
        written = self.path.with_suffix(".new")
        written.write_text(str(shift.total_seconds()))
        written.replace(self.path)  # atomic: a worker never reads half a number


def _app():  # type: ignore[no-untyped-def]
    from guarantee import create_app

    return create_app({"GUARANTEE_CLOCK": ShiftedClock(Path(os.environ["GUARANTEE_TEST_CLOCK_FILE"]))})


if os.environ.get("GUARANTEE_TEST_CLOCK_FILE"):
    app = _app()
