# smsbridge image: `docker build -t smsbridge .` (or `make image`).
# Default command `smsbridge run`; `docker run --rm smsbridge smsbridge demo` runs the demo.
# Behind a proxy with its own CA, pass the CA bundle as a BuildKit secret; it is used by
# apt and pip during the build and never stored in a layer:
#   DOCKER_BUILDKIT=1 docker build --secret id=ca,src=/path/ca.pem -t smsbridge .
# Python comes from Debian's packages, so the only base image needed is debian:bookworm-slim.
ARG BASE=debian:bookworm-slim

FROM ${BASE} AS build
ENV DEBIAN_FRONTEND=noninteractive PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
COPY docker/with-ca /usr/local/bin/with-ca
RUN --mount=type=secret,id=ca with-ca sh -c 'apt-get update -q \
    && apt-get install -y -q --no-install-recommends python3 python3-venv \
    && rm -rf /var/lib/apt/lists/*'
RUN python3 -m venv /opt/smsbridge
WORKDIR /src
# Dependencies first, from the lock, so code changes reuse this layer.
COPY requirements.lock ./
RUN --mount=type=secret,id=ca with-ca \
    /opt/smsbridge/bin/pip install -q --no-deps -r requirements.lock
COPY pyproject.toml README.md ./
COPY bot bot
COPY bridges bridges
COPY storage storage
COPY standins standins
RUN --mount=type=secret,id=ca with-ca /opt/smsbridge/bin/pip install -q --no-deps .

FROM ${BASE}
ENV DEBIAN_FRONTEND=noninteractive
COPY docker/with-ca /usr/local/bin/with-ca
# tzdata: organizations' time zones (quiet hours); ca-certificates: TLS to the platforms.
RUN --mount=type=secret,id=ca with-ca sh -c 'apt-get update -q \
    && apt-get install -y -q --no-install-recommends python3 tzdata ca-certificates \
    && rm -rf /var/lib/apt/lists/*' \
    && rm /usr/local/bin/with-ca \
    && useradd --system --create-home --home-dir /app --uid 10001 smsbridge
COPY --from=build /opt/smsbridge /opt/smsbridge
# `smsbridge setup slack` reads the app manifest from the working folder.
COPY manifests /app/manifests
ENV PATH=/opt/smsbridge/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 \
    SMSBRIDGE_HOST=0.0.0.0 SMSBRIDGE_PORT=8080 \
    SMSBRIDGE_DATABASE_URL=sqlite+aiosqlite:////app/data/smsbridge.db
USER smsbridge
WORKDIR /app
RUN mkdir -p /app/data
VOLUME /app/data
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python3", "-m", "bot.ops.healthcheck"]
STOPSIGNAL SIGTERM
CMD ["smsbridge", "run"]
