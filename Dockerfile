# mtgate: multi-stage build. The builder compiles a release binary with the Rust toolchain;
# the runtime image is a slim Debian with only CA certificates, curl (for HEALTHCHECK) and a
# non-root user.

FROM rust:1.95-slim-bookworm AS builder
WORKDIR /src
# The whole checkout (see .dockerignore): the manifest may name benches, tests or examples,
# so a dependency-only pre-build with stub sources is not reliable here.
COPY . .
RUN cargo build --release --locked --bin mtgate

FROM debian:bookworm-slim AS runtime
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 mtgate \
    && useradd --system --uid 10001 --gid mtgate --home-dir /var/lib/mtgate --shell /usr/sbin/nologin mtgate \
    && mkdir -p /var/lib/mtgate \
    && chown mtgate:mtgate /var/lib/mtgate
COPY --from=builder /src/target/release/mtgate /usr/local/bin/mtgate

ENV MTGATE_LISTEN=0.0.0.0:8000 \
    MTGATE_STATE_DIR=/var/lib/mtgate \
    MTGATE_LOG_FORMAT=json \
    RUST_LOG=info
USER mtgate:mtgate
WORKDIR /var/lib/mtgate
VOLUME ["/var/lib/mtgate"]
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=5s --retries=3 \
    CMD curl -fsS http://127.0.0.1:8000/health/live || exit 1
# SIGTERM (docker stop) drains in-flight requests and disconnects cleanly.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/mtgate"]
CMD ["serve"]
