# Multi-stage build on Debian 12, Debian packages only. The build stage runs the same scripts
# as a developer machine (scripts/deps.sh, scripts/build.sh).
FROM debian:12 AS build
WORKDIR /src
COPY . .
RUN scripts/deps.sh && scripts/build.sh --release

FROM debian:12-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libcaf-core0.17 libcaf-io0.17 libspdlog1.10 libfmt9 libsqlite3-0 ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home /var/lib/orderd orderd \
 && mkdir -p /var/lib/orderd && chown orderd /var/lib/orderd
COPY --from=build /src/build/release/app/orderd /usr/local/bin/orderd
COPY config/orderd.example.conf /etc/orderd/orderd.example.conf
USER orderd
ENV ORDERD_HOST=0.0.0.0 ORDERD_DATA_DIR=/var/lib/orderd
EXPOSE 8080
VOLUME /var/lib/orderd
HEALTHCHECK --interval=10s --timeout=2s CMD curl -fsS http://127.0.0.1:8080/health || exit 1
ENTRYPOINT ["/usr/local/bin/orderd"]
