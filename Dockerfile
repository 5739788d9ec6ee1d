# syntax=docker/dockerfile:1
# balance-graph as a container: the wheel and its dependencies only (no checkout, no
# node_modules), run as a non-root user.
#
#   docker build -t balance-graph .
#   docker run --rm -p 8000:8000 balance-graph      # http://127.0.0.1:8000/graphql
#
# Configure with BALANCE_GRAPH_CONFIG (a mounted TOML), REDIS_URL and
# BALANCE_GRAPH_RPC_URLS_<CHAIN>; without them it serves the config shipped in the package.
# Without REDIS_URL, API keys, limits and credits live in /data (mount a volume to keep them):
#   docker run -v bg-data:/data ... balance-graph keys create --name NAME
# compose.yaml runs two replicas of this image behind nginx, sharing one Redis.

ARG PYTHON_IMAGE=python:3.12-slim-bookworm

# The wheel. setup.py vendors GraphiQL's files from the npm tarballs that package-lock.json pins,
# fetched from the registry here and checked against the lockfile's sha512 before use.
FROM ${PYTHON_IMAGE} AS build
WORKDIR /src
COPY . .
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /dist .

FROM ${PYTHON_IMAGE} AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    BALANCE_GRAPH_DATA_DIR=/data
RUN --mount=type=bind,from=build,source=/dist,target=/dist \
    pip install --no-cache-dir /dist/*.whl \
    && useradd --system --uid 10001 --user-group --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin balance-graph \
    && install -d -o 10001 -g 10001 -m 700 /data
VOLUME ["/data"]
USER 10001:10001
WORKDIR /tmp
EXPOSE 8000
# Liveness: /health/live answers 200 while the process serves. Dead chains or a Redis outage
# must not restart containers: they show on /health/ready, which the proxy routes by.
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request as r; r.urlopen('http://127.0.0.1:8000/health/live', timeout=2)"]
# Workers: one per CPU the container may use (its --cpus / limits.cpu quota and cpuset), not
# one per host core; append "--workers", "N" to choose.
CMD ["balance-graph", "serve", "--host", "0.0.0.0", "--port", "8000"]
