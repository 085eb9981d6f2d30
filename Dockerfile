# syntax=docker/dockerfile:1
# orderd container image: multi-stage, Debian 12 base, Debian packages only.
#
#   docker build -t orderd:latest .          (or: docker compose build)
#   docker run --rm -p 8080:8080 -v orderd-data:/var/lib/orderd orderd:latest --demo-catalogue
#
# The build stage runs the same scripts as a developer machine (README "Set-up"; scripts/run.sh
# --release does exactly these two steps): scripts/deps.sh installs the Debian build packages,
# scripts/build.sh --release builds into build/release. The runtime stage gets the binary and only
# the Debian packages that provide the shared libraries it links (found by deploy/runtime-packages.sh
# with ldd + dpkg in the build stage, e.g. libcaf-core0.17 libspdlog1.10 libfmt9 libsqlite3-0
# libjemalloc2 librabbitmq4 libssl3 libpq5). scripts/validate_deploy.sh checks this file (no
# Docker engine runs in CI).

# -- build --------------------------------------------------------------------------------------
FROM debian:12 AS build
WORKDIR /src
# Dependencies first: this layer is reused until scripts/deps.sh changes.
COPY scripts/deps.sh scripts/deps.sh
RUN scripts/deps.sh --no-test-tools && rm -rf /var/lib/apt/lists/*
COPY . .
# Tests and benchmarks are not part of the image (BUILD_TESTING=OFF through build.sh's CMAKE_ARGS).
RUN --mount=type=cache,target=/root/.ccache \
    CMAKE_ARGS=-DBUILD_TESTING=OFF scripts/build.sh --release \
 && build/release/app/orderd --version \
 && deploy/runtime-packages.sh build/release/app/orderd > /tmp/runtime-packages.txt \
 && echo "runtime packages:" $(cat /tmp/runtime-packages.txt)

# -- runtime ------------------------------------------------------------------------------------
FROM debian:12-slim AS runtime
COPY --from=build /tmp/runtime-packages.txt /tmp/runtime-packages.txt
# curl: the HEALTHCHECK below. A fixed numeric uid/gid (10001) so Kubernetes' runAsNonRoot can
# verify it (deploy/k8s/statefulset.yaml uses the same ids).
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      $(cat /tmp/runtime-packages.txt) ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* /tmp/runtime-packages.txt \
 && groupadd --system --gid 10001 orderd \
 && useradd --system --uid 10001 --gid orderd --home-dir /var/lib/orderd \
      --shell /usr/sbin/nologin orderd \
 && mkdir -p /var/lib/orderd /etc/orderd \
 && chown orderd:orderd /var/lib/orderd
COPY --from=build /src/build/release/app/orderd /usr/local/bin/orderd
COPY config/orderd.example.conf /etc/orderd/orderd.example.conf

# Listen on every interface inside the container; keep the SQLite file on the volume.
ENV ORDERD_HOST=0.0.0.0 \
    ORDERD_PORT=8080 \
    ORDERD_DATA_DIR=/var/lib/orderd
USER 10001:10001
WORKDIR /var/lib/orderd
VOLUME ["/var/lib/orderd"]
EXPOSE 8080
# orderd drains on SIGTERM: stops accepting, finishes in-flight requests, stops the actors, exits 0.
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD curl -fsS "http://127.0.0.1:${ORDERD_PORT:-8080}/health" || exit 1
ENTRYPOINT ["/usr/local/bin/orderd"]
