"""JSON log lines for operators. Never log tokens or personal data."""

from __future__ import annotations

import json
import logging
import re
import traceback
from datetime import UTC, datetime
from types import TracebackType

from sqlalchemy.exc import DBAPIError

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]

# What could end a log line early or rewrite a terminal: C0 controls (CR and LF among them), DEL,
# C1 controls, and Unicode's line and paragraph separators. A request's path is text someone
# sent ("Exception on /track/x\n... [GET]"), so no message may carry one as it is.
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# JSON escapes C0 itself; with ensure_ascii=False it would leave these as they are.
_JSON_UNESCAPED = re.compile(r"[\x7f-\x9f\u2028\u2029]")


def _written(control: re.Match[str]) -> str:
    code = ord(control.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape_controls(text: str) -> str:
    """The text with each control character written as ``\\xhh`` (or ``\\u2028``), so that a
    message is always one line and shows what was sent."""
    return CONTROL.sub(_written, text)


def describe_exception(exc_info: ExcInfo) -> str:
    """The traceback, except that a database error's text is left out: PostgreSQL's DETAIL
    and the statement's parameters can carry a group's personal data."""
    _, error, tb = exc_info
    if not isinstance(error, DBAPIError):
        return "".join(traceback.format_exception(*exc_info))
    original = type(error.orig).__name__ if error.orig is not None else "unknown"
    sqlstate = getattr(error.orig, "sqlstate", None) or "unknown"
    frames = "".join(traceback.format_tb(tb))
    return f"Traceback (most recent call last):\n{frames}{type(error).__name__}: {original} (SQLSTATE {sqlstate}); text withheld"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and record.exc_info[1] is not None:
            line["exception"] = describe_exception(record.exc_info)
        return _JSON_UNESCAPED.sub(lambda c: f"\\u{ord(c.group()):04x}", json.dumps(line, ensure_ascii=False))


class PlainFormatter(logging.Formatter):
    """One line a message, its control characters escaped (then the traceback, if any)."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = escape_controls(record.message)
        return super().formatMessage(record)

    def formatException(self, ei) -> str:  # type: ignore[no-untyped-def]
        return describe_exception(ei)


class WithoutClientAddress(logging.Filter):
    """Flask-Limiter names the client's address in "ratelimit exceeded" lines; keep the
    event (an operator wants to see it) but not the address (personal data)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and len(record.args) == 3 and "exceeded" in str(record.msg):
            record.args = (record.args[0], "a client", record.args[2])
        return True


def configure_logging(json_lines: bool) -> None:
    root = logging.getLogger()
    if any(getattr(h, "_guarantee", False) for h in root.handlers):
        return
    handler = logging.StreamHandler()
    handler._guarantee = True  # type: ignore[attr-defined]
    handler.setFormatter(JsonFormatter() if json_lines else PlainFormatter("%(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > logging.INFO:
        root.setLevel(logging.INFO)
    limiter_log = logging.getLogger("flask-limiter")
    if not any(isinstance(f, WithoutClientAddress) for f in limiter_log.filters):
        limiter_log.addFilter(WithoutClientAddress())
    # One line per state change is the audit trail's job, not the log's.
    logging.getLogger("transitions").setLevel(logging.WARNING)
