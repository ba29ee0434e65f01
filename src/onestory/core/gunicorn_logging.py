"""gunicorn's access and error logs as JSON lines, the access log without query strings.

Named by ``gunicorn.conf.py`` (``logger_class``). gunicorn's own access line quotes the raw
request line, query string and all; the people search puts a person's name in ``?q=``, so
this logger writes its own line from the path alone.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from gunicorn.glogging import Logger

from onestory.core.logs import REQUEST_ID_HEADER, JsonFormatter


def _header(headers: Any, name: str) -> str:
    wanted = name.lower()
    items = headers.items() if hasattr(headers, "items") else headers
    for key, value in items or ():
        if str(key).lower() == wanted:
            return str(value)
    return ""


class JsonLogger(Logger):  # type: ignore[misc]  # gunicorn has no type hints
    """gunicorn's logger with every handler formatting JSON, and an access line of method,
    path (never the query), status, bytes sent, duration and request id."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        formatter = JsonFormatter()
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.setFormatter(formatter)

    def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: timedelta) -> None:
        if not self.access_log_enabled:
            return
        status = resp.status
        if isinstance(status, str):
            status = status.split(None, 1)[0]
        fields = {
            "method": environ.get("REQUEST_METHOD", ""),
            # PATH_INFO is the path alone: RAW_URI and QUERY_STRING are never logged.
            "path": environ.get("PATH_INFO", ""),
            "status": int(status),
            "bytes": getattr(resp, "sent", None) or 0,
            "duration_ms": round(request_time.total_seconds() * 1000, 1),
            "request_id": _header(resp.headers, REQUEST_ID_HEADER),
        }
        self.access_log.log(
            logging.INFO,
            "%s %s %s",
            fields["method"],
            fields["path"],
            fields["status"],
            extra=fields,
        )
