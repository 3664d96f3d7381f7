"""gunicorn settings, read by `make run` (gunicorn loads ./gunicorn.conf.py) and the tests.

A tracking link's token (``?token=``) and personal data, client addresses included, must never
reach a log: access log lines carry the path without its query string and no address, and the
few error lines of gunicorn's own that name a request or an address are cut down the same way.
"""

import logging
import os
import re

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
