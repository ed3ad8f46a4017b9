# syntax=docker/dockerfile:1
# Paloma: one image with both binaries, paloma-api (default) and paloma-worker.
#   docker build -t paloma .
#   docker run --rm -p 8080:8080 -e API_ADDR=0.0.0.0:8080 -e DATABASE_URL=... -e REDIS_URL=... paloma
#   docker run --rm -e DATABASE_URL=... -e REDIS_URL=... -e SMTP_URL=... paloma paloma-worker

# ---- build ----------------------------------------------------------------------------------
FROM rust:1-bookworm AS builder
WORKDIR /src
COPY . .
# BuildKit cache mounts keep the crates.io registry and the target directory between builds.
# The target directory is a cache mount, so the binaries are copied out in the same step.
RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,target=/usr/local/cargo/git,sharing=locked \
    --mount=type=cache,target=/src/target,sharing=locked \
    cargo build --release --locked -p paloma \
    && install -D -m 0755 target/release/paloma-api /out/paloma-api \
    && install -D -m 0755 target/release/paloma-worker /out/paloma-worker

# ---- runtime --------------------------------------------------------------------------------
FROM debian:bookworm-slim AS runtime
# ca-certificates: SMTP over TLS; curl: container health checks (GET /readyz).
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 paloma \
    && useradd --system --uid 10001 --gid paloma --home-dir /app --no-create-home --shell /usr/sbin/nologin paloma \
    && install -d -o paloma -g paloma /app /app/outbox
COPY --from=builder /out/paloma-api /out/paloma-worker /usr/local/bin/
WORKDIR /app
USER 10001:10001
# In a container the API must listen on every interface; .eml files (no SMTP_URL) go to /app/outbox.
ENV API_ADDR=0.0.0.0:8080 \
    OUTBOX_DIR=/app/outbox
EXPOSE 8080
# No image-level HEALTHCHECK: one image serves both binaries (the worker answers /healthz and
# /readyz on METRICS_ADDR). docker-compose.yml checks the api
# with `curl -fsS http://localhost:8080/readyz`.
CMD ["paloma-api"]
