"""Logging filters of the project.

:class:`StripQueryStrings` keeps query strings out of log records: a URL's query may hold a
search term or a filter that is a phone or ID number (DESIGN §3: no personal data in logs).
It is wired in ``LOGGING`` on the loggers that write request lines and paths
(``django.server``, ``django.request``, ``django.security``…) and on the console handler, so
records of any other logger that reach it are cleaned too.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, MutableMapping

# A path (``/…``), optionally after a scheme and host, then ``?`` and its query up to the
# next blank or quote. Only a ``?`` that follows a path is taken for a query string.
_QUERY_STRING = re.compile(
    r"""(?P<path>(?:[a-zA-Z][a-zA-Z0-9+.-]*://[^\s/?#"'<>]+)?/[^\s?#"'<>]*)\?[^\s#"'<>]*"""
)


def strip_query_strings(text: str) -> str:
    """``"GET /customers/?q=138… HTTP/1.1"`` → ``"GET /customers/ HTTP/1.1"``."""
    if "?" not in text:
        return text
    return _QUERY_STRING.sub(r"\g<path>", text)


def _clean(value):
    """Text without query strings; numbers and ``None`` as they are; another object whose
    text holds a query string (``<WSGIRequest: GET '/customers/?q=…'>``) becomes that text."""
    if value is None or isinstance(value, (int, float)):
        return value
    if isinstance(value, bytes):
        return strip_query_strings(value.decode("utf-8", "replace"))
    if isinstance(value, str):
        return strip_query_strings(value)
    try:
        text = str(value)
    except Exception:  # noqa: BLE001 - logging must not fail on an odd argument
        return value
    cleaned = strip_query_strings(text)
    return value if cleaned == text else cleaned


class StripQueryStrings(logging.Filter):
    """Removes query strings from a record's message and arguments; never drops a record.

    Arguments that are not text (a status code, a size) are kept as they are, so formatters
    that read them still work; a mapping of arguments (gunicorn's access-log atoms) is
    cleaned in place, keeping its own class.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = strip_query_strings(record.msg)
        else:
            record.msg = _clean(record.msg)
        args = record.args
        if isinstance(args, MutableMapping):
            for key, value in list(args.items()):
                cleaned = _clean(value)
                if cleaned is not value:
                    args[key] = cleaned
        elif isinstance(args, Mapping):
            record.args = {key: _clean(value) for key, value in args.items()}
        elif isinstance(args, tuple):
            record.args = tuple(_clean(value) for value in args)
        if record.exc_info and not record.exc_text:
            # Tracebacks and exception messages may quote a URL with its query string.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = strip_query_strings(record.exc_text)
        return True


class StripGunicornAccessAtoms(StripQueryStrings):
    """For ``gunicorn.access``: also blanks the atoms that are a query string or a Referer.

    gunicorn passes every atom to the record (``q``, ``f``, ``{query_string}e``, the
    request headers…), whether the format uses it or not; a handler or a later format
    change must find none of them.
    """

    BLANKED = frozenset(
        {"q", "f", "{query_string}e", "{http_referer}e", "{referer}i", "{raw_uri}e"}
    )

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, MutableMapping):
            for key in self.BLANKED & set(record.args):
                record.args[key] = "-"
        return super().filter(record)
