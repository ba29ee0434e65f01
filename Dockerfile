# OneStory production image: gunicorn web server and background worker (docs/deploy.md).
# Dependencies are installed with exactly the commands CI uses (`make install`: Debian
# packages, `uv sync --frozen` from uv.lock, `npm ci` from package-lock.json), so there is
# no second dependency list to drift. No secret is baked in: every key comes from the
# environment at run time.
FROM python:3.12-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    # The production image leaves out the development group (pytest, linters).
    UV_NO_DEV=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    ONESTORY_DATA_DIR=/var/lib/onestory \
    ONESTORY_STATIC_ROOT=/app/static \
    DJANGO_SETTINGS_MODULE=onestory.settings \
    PATH=/app/.venv/bin:$PATH

# Build tools only: make runs the install, npm installs the front-end packages.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends make npm \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY Makefile pyproject.toml uv.lock package.json package-lock.json README.md ./
COPY scripts/ scripts/
COPY src/ src/
RUN make install \
 && rm -rf /var/lib/apt/lists/* /root/.cache /root/.npm

COPY manage.py gunicorn.conf.py ./
# Static files are collected into the image (not the data volume), so an upgrade serves
# the new release's assets.
RUN python -m django collectstatic --noinput --verbosity 0

# Run as an unprivileged user that owns only the data directory: the application cannot
# change its own code.
RUN groupadd --system --gid 10001 onestory \
 && useradd --system --uid 10001 --gid onestory --home-dir /nonexistent --shell /usr/sbin/nologin onestory \
 && mkdir -p /var/lib/onestory \
 && chown onestory:onestory /var/lib/onestory
USER onestory:onestory
# Font and other library caches go to a scratch directory, not the data volume.
ENV HOME=/tmp
VOLUME ["/var/lib/onestory"]

EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
CMD ["gunicorn", "--config", "gunicorn.conf.py"]
