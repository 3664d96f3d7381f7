"""gunicorn settings, read by `make run` (gunicorn loads ./gunicorn.conf.py) and the tests.

A tracking link's token (``?token=``) and personal data, client addresses included, must never
reach a log: access log lines carry the path without its query string and no address, and the
few error lines of gunicorn's own that name a request or an address are cut down the same way.

Nor can a request forge a log line. gunicorn decodes the path, so ``/track/x%0A...`` arrives
with a line feed in it: every field of the access log is escaped as Apache escapes its own
(a quote or backslash gets a backslash; CR, LF, every other control character and every byte
past ASCII is written ``\\xhh``), so one request is one line and no field can close its quotes;
and every control character in a line of gunicorn's error log is written ``\\xhh`` too.
"""

import logging
import os
import re

from gunicorn.glogging import Logger, SafeAtoms

# Sync workers, one per core by default (GUARANTEE_WORKERS to change it). Measured with the
# benchmark suite on 2 cores (benchmarks/README.md): 2 sync workers served as many requests as
# 4 or 6, or as gthread, with the lowest p99; more workers only queued for the same cores and,
# on SQLite, for the one writer. A PostgreSQL on another machine leaves workers waiting on the
# network, and more of them (2 or 3 a core) then pay.
worker_class = "sync"
workers = int(os.environ.get("GUARANTEE_WORKERS") or os.cpu_count() or 1)

accesslog = "-"
access_log_format = '"%(m)s %(U)s" %(s)s %(B)s %(M)sms'

_QUERY = re.compile(r"\?\S*")
_ADDRESS = re.compile(r"\bip=[^\s:]+(?::[0-9a-fA-F:]*)?")  # "Invalid request from ip=192.0.2.1: ..."
_NOT_PRINTABLE_ASCII = re.compile(r'[^\x20-\x7e]|["\\]')
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")  # C0, DEL, C1, and Unicode's line breaks


def _hex(found: re.Match[str]) -> str:
    code = ord(found.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def _access_field(text: str) -> str:
    """A field of an access log line. gunicorn's environ strings hold one byte a character (WSGI),
    so ``\\xhh`` shows each byte a request sent."""
    return _NOT_PRINTABLE_ASCII.sub(lambda c: "\\" + c.group() if c.group() in '"\\' else _hex(c), text)


class _EscapedAtoms(SafeAtoms):
    """The access log's fields, each escaped (gunicorn's own SafeAtoms escapes only quotes)."""

    def __init__(self, atoms: dict) -> None:
        dict.__init__(
            self,
            {
                key: value if value is None or isinstance(value, int | float) else _access_field(str(value))
                for key, value in atoms.items()
            },
        )


class _Redact(logging.Filter):
    """gunicorn's error log: no query string, no client address, no control character."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = _ADDRESS.sub("ip=[withheld]", _QUERY.sub("", _CONTROL.sub(_hex, message)))
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


class EscapingLogger(Logger):
    """gunicorn's logger, with every access log field escaped and the error log filtered."""

    atoms_wrapper_class = _EscapedAtoms

    def setup(self, cfg) -> None:
        super().setup(cfg)
        if not any(isinstance(f, _Redact) for f in self.error_log.filters):
            self.error_log.addFilter(_Redact())


logger_class = EscapingLogger
