# Halfbie in a container: docker build -t halfbie . && docker run -d --env-file .env -v halfbie-data:/data halfbie
# (or compose.yaml). The SQLite file lives on the volume /data; the bot runs as a user without
# privileges; HEALTHCHECK asks /healthz, which the bot serves when HALFBIE_HTTP is set.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN groupadd --system halfbie \
    && useradd --system --gid halfbie --home-dir /app --no-create-home --shell /usr/sbin/nologin halfbie \
    && mkdir -p /data \
    && chown halfbie:halfbie /data

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY cogs ./cogs
COPY data ./data
RUN pip install .
# The bot reads the canon (data/) and its catalogs beside its package, so it runs from /app,
# where they are, rather than from the installed copy.
ENV PYTHONPATH=/app

# Inside the container the health port is published on purpose: HALFBIE_HTTP_PUBLIC=1.
ENV HALFBIE_DB=/data/halfbie.db \
    HALFBIE_HTTP=0.0.0.0:8080 \
    HALFBIE_HTTP_PUBLIC=1 \
    HALFBIE_LOG_FORMAT=json
VOLUME ["/data"]
EXPOSE 8080

USER halfbie
# slim has no curl: Python asks /healthz (200 while the bot's event loop answers).
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4).status == 200 else 1)"]

# docker stop sends SIGTERM: the bot answers what is in flight, flushes the store, exits 0.
STOPSIGNAL SIGTERM
ENTRYPOINT ["halfbie"]
CMD ["run"]
