"""gunicorn, the production web server: ``gunicorn -c gunicorn.conf.py`` (docs/deploy.md).

Every value can be changed from the environment, so the container image never needs editing.
"""

from __future__ import annotations

import os

wsgi_app = "onestory.wsgi:application"
bind = os.environ.get("ONESTORY_BIND", "0.0.0.0:8000")
# A page is mostly Python (about 30 ms of a core, bench/results/load.md), so processes give
# the throughput; the threads let a worker go on while one request waits on the database or
# an upload, and keep idle keep-alive connections from needing a process each.
workers = int(os.environ.get("ONESTORY_WEB_WORKERS", str(2 * (os.cpu_count() or 1) + 1)))
threads = int(os.environ.get("ONESTORY_WEB_THREADS", "4"))
worker_class = "gthread"
timeout = int(os.environ.get("ONESTORY_WEB_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then, so a slow leak never grows without bound.
max_requests = int(os.environ.get("ONESTORY_WEB_MAX_REQUESTS", "2000"))
max_requests_jitter = 200
# Load the application before forking: a broken configuration (a missing key in production)
# stops the server at once with its message, rather than in a loop of dying workers.
preload_app = True

# Structured logs on standard output and error (a container's log collector reads them):
# JSON lines, and an access line that holds the path but never the query string.
logger_class = "onestory.core.gunicorn_logging.JsonLogger"
accesslog = os.environ.get("ONESTORY_ACCESS_LOG", "-")
errorlog = os.environ.get("ONESTORY_ERROR_LOG", "-")
loglevel = os.environ.get("ONESTORY_WEB_LOG_LEVEL", "info")
# gunicorn's control socket (for gunicornc) would be written under the home directory, which
# the container's user does not have; signals (HUP, TERM) manage the server instead.
control_socket_disable = True
# The proxy in front (docs/deploy.md) may set X-Forwarded-*; gunicorn trusts them only from
# these addresses. Django separately trusts X-Forwarded-Proto only with ONESTORY_BEHIND_PROXY.
forwarded_allow_ips = os.environ.get("ONESTORY_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
