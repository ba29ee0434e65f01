"""Structured logs: one JSON object a line, with the request id, and never a query string.

The people search puts a name in ``?q=``, so no log line may carry a query string: the web
server's access log records the path only, and any message that quotes a URL has its query
cut off before it is written (docs/adr/0021-deployment.md).
"""

from __future__ import annotations

import json
import logging
import re
import traceback
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from django.http import HttpRequest, HttpResponse

REQUEST_ID_HEADER = "X-Request-ID"
# A proxy's id is kept only when it looks like an id, so a client cannot write text into logs.
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
# "?" up to the next space or quote: the query part of any URL quoted in a message.
_QUERY = re.compile(r"\?[^\s\"'<>]*")

request_id: ContextVar[str] = ContextVar("onestory_request_id", default="")

# LogRecord attributes every record has; anything else was passed with ``extra=``.
_STANDARD = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


def without_query(text: str) -> str:
    """``text`` with the query string of any URL in it removed."""
    return _QUERY.sub("", text)


class JsonFormatter(logging.Formatter):
    """A log record as one line of JSON: time (UTC), level, logger, message, request id,
    and any ``extra=`` fields; exceptions as a ``exception`` string."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": without_query(record.getMessage()),
        }
        # Django logs a 4xx/5xx response after the middleware has returned, with the
        # request attached: its id is on the request then.
        rid = (
            getattr(record, "request_id", "")
            or getattr(getattr(record, "request", None), "request_id", "")
            or request_id.get()
        )
        if rid:
            entry["request_id"] = rid
        for key, value in vars(record).items():
            if key in _STANDARD or key in entry or key == "request_id":
                continue
            # Plain values only: an object's text may quote more than its owner meant (a
            # request's repr holds its query string), so objects are left out.
            if isinstance(value, bool | int | float):
                entry[key] = value
            elif isinstance(value, str):
                entry[key] = without_query(value)
        if record.exc_info:
            entry["exception"] = without_query(
                "".join(traceback.format_exception(*record.exc_info))
            )
        return json.dumps(entry, ensure_ascii=False)


class RequestIdMiddleware:
    """Gives every request an id (the proxy's ``X-Request-ID`` when it sent a sane one),
    puts it on every log line written while the request runs, and returns it in the
    response so an access log line, an application log line and a user's report of an
    error can be matched."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        offered = request.headers.get(REQUEST_ID_HEADER, "")
        rid = offered if _SAFE_ID.match(offered) else uuid.uuid4().hex
        request.request_id = rid  # type: ignore[attr-defined]
        token = request_id.set(rid)
        try:
            response = self.get_response(request)
        finally:
            request_id.reset(token)
        response[REQUEST_ID_HEADER] = rid
        return response
