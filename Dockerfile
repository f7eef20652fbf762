# syntax=docker/dockerfile:1
# Two images from one file:
#   docker build --target api .     the API and the migrations: no TensorFlow at all
#   docker build --target worker .  the Celery worker and its trainer: TensorFlow's CUDA build
# docker-compose.yml builds both.

FROM python:3.11-slim AS base
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DATA_DIR=/var/lib/shears
WORKDIR /srv/shears
RUN useradd --create-home --uid 10001 shears \
    && mkdir -p /var/lib/shears \
    && chown shears:shears /var/lib/shears
COPY pyproject.toml README.md alembic.ini ./
COPY app ./app
# Of the engine, the API needs only its contract (hparams, training config, the model rules).
COPY worker/__init__.py ./worker/
COPY worker/pruning/__init__.py ./worker/pruning/
COPY worker/pruning/contract ./worker/pruning/contract
COPY shears_client ./shears_client
COPY migrations ./migrations
# The project's base dependencies: the API's, which include no TensorFlow.
RUN --mount=type=cache,target=/root/.cache/pip pip install .

FROM base AS api
USER shears
EXPOSE 8000
CMD ["uvicorn", "--factory", "app.api.main:create_app", "--host", "0.0.0.0", "--port", "8000"]

FROM base AS worker
# The `gpu` extra is the `worker` extra with TensorFlow's CUDA build (`tensorflow[and-cuda]`:
# CUDA and cuDNN come as pip wheels, so the host needs only the NVIDIA driver and the container
# toolkit). The `worker` extra itself pins tensorflow-cpu, for laptops and CI; installing both
# would overwrite one TensorFlow with the other, so this image installs `gpu` only.
ARG TENSORFLOW_VERSION=2.21.0
COPY worker ./worker
RUN --mount=type=cache,target=/root/.cache/pip \
    pip install ".[gpu]" "tensorflow[and-cuda]==${TENSORFLOW_VERSION}"
USER shears
CMD ["celery", "-A", "worker.celery_app", "worker", "-Q", "gpu", "--concurrency", "1", "--loglevel", "INFO"]
