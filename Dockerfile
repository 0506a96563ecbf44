# The image that Docker and Kubernetes work pools run earful's flows in (README: "Beyond one
# machine"). Build it from the repository root:
#   docker build -t earful:latest .
# The deployments' entrypoints are paths (flows/listen.py:listen, ...), so the checkout is
# copied to /app and the deployments are deployed with their pull step set to /app
# (`PWD=/app prefect --no-prompt deploy ...`: prefect.yaml's {{ $PWD }}). Nothing else is
# baked in: the config, the database and the secrets come from a volume and the environment.
FROM python:3.11-slim

# EARFUL_CONFIG: mount a volume at /data with earful.toml in it; its database.path should be
# on the volume too (e.g. /data/earful.duckdb), or a connection string such as md:earful.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PREFECT_SERVER_ANALYTICS_ENABLED=false \
    EARFUL_CONFIG=/data/earful.toml

WORKDIR /app
COPY . /app
# The same pinned dependencies as `make demo` (pyproject.toml: prefect 3.8.8, duckdb 2.0).
RUN pip install . && mkdir -p /data
