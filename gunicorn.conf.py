"""gunicorn settings, read by `make run` (gunicorn loads ./gunicorn.conf.py) and the tests.

Access log lines carry the path without its query string, and no client address: a tracking
link's token (``?token=``) and personal data must never reach a log.
"""

accesslog = "-"
access_log_format = '"%(m)s %(U)s" %(s)s %(B)s %(M)sms'
