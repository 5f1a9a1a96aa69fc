"""gunicorn settings of the production image (``gunicorn -c docker/gunicorn.conf.py``).

The access log names the path without its query string (``%(U)s``, not ``%(r)s``) and
leaves out the Referer (``%(f)s``) and the query (``%(q)s``): a search term or a filter may
be a phone or ID number, and a Referer carries the previous page's query. gunicorn's own
loggers (an error names the request URI) get the project's query-string filter too.
"""

import logging
import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "3"))
accesslog = "-"
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms'


def _strip_query_strings_from_gunicorn_logs():
    from crm.log_filters import StripGunicornAccessAtoms, StripQueryStrings

    for name, kind in (
        ("gunicorn.error", StripQueryStrings),
        ("gunicorn.access", StripGunicornAccessAtoms),
    ):
        logger = logging.getLogger(name)
        if not any(isinstance(f, StripQueryStrings) for f in logger.filters):
            logger.addFilter(kind())


def on_starting(server):
    _strip_query_strings_from_gunicorn_logs()


def post_fork(server, worker):
    _strip_query_strings_from_gunicorn_logs()
