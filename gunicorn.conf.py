"""gunicorn settings, read by `make run` (gunicorn loads ./gunicorn.conf.py) and the tests.

A tracking link's token (``?token=``) and personal data, client addresses included, must never
reach a log: access log lines carry the path without its query string and no address, and the
few error lines of gunicorn's own that name a request or an address are cut down the same way.
"""

import logging
import re

accesslog = "-"
access_log_format = '"%(m)s %(U)s" %(s)s %(B)s %(M)sms'

_QUERY = re.compile(r"\?\S*")
_ADDRESS = re.compile(r"\bip=[^\s:]+(?::[0-9a-fA-F:]*)?")  # "Invalid request from ip=192.0.2.1: ..."


class _Redact(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = _ADDRESS.sub("ip=[withheld]", _QUERY.sub("", message))
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


def _redact_error_log() -> None:
    error_log = logging.getLogger("gunicorn.error")
    if not any(isinstance(f, _Redact) for f in error_log.filters):
        error_log.addFilter(_Redact())


def on_starting(server):
    _redact_error_log()


def post_fork(server, worker):
    _redact_error_log()
