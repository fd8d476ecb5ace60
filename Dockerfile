# mtgate: multi-stage build. The builder compiles a release binary with the Rust toolchain
# (the version in Cargo.toml's rust-version); the runtime image is a slim Debian with only CA
# certificates, curl (for HEALTHCHECK) and a non-root user. Image names are fully qualified,
# so engines without a default registry (e.g. Podman without short-name aliases) pull them.

FROM docker.io/library/rust:1.95-slim-bookworm AS builder
WORKDIR /src

# Dependency-cache layer: every manifest of the workspace and stub sources for each target
# they name, so the ~300 dependencies build once and stay cached until a manifest or
# Cargo.lock changes; a source change rebuilds only mtgate's own three crates.
COPY Cargo.toml Cargo.lock ./
COPY crates/mtgate-sandbox/Cargo.toml crates/mtgate-sandbox/
COPY crates/mtgate-session/Cargo.toml crates/mtgate-session/
COPY crates/mtgate-testdb/Cargo.toml crates/mtgate-testdb/
RUN mkdir -p src benches/mtgate crates/mtgate-sandbox/src crates/mtgate-session/src crates/mtgate-testdb/src \
    && echo 'fn main() {}' > src/main.rs \
    && touch src/lib.rs crates/mtgate-sandbox/src/lib.rs crates/mtgate-session/src/lib.rs crates/mtgate-testdb/src/lib.rs \
    && echo 'fn main() {}' > benches/mtgate/main.rs \
    && echo 'fn main() {}' > benches/mtgate_units.rs \
    && cargo build --release --locked --bin mtgate \
    && rm -rf src benches crates/mtgate-sandbox/src crates/mtgate-session/src crates/mtgate-testdb/src

# The real sources (see .dockerignore). COPY keeps the files' old modification times, so the
# crate roots are touched: cargo must not take the stubs' build for theirs.
COPY . .
RUN touch src/main.rs src/lib.rs crates/mtgate-sandbox/src/lib.rs crates/mtgate-session/src/lib.rs crates/mtgate-testdb/src/lib.rs \
    && cargo build --release --locked --bin mtgate

FROM docker.io/library/debian:bookworm-slim AS runtime
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
# Probes whatever MTGATE_LISTEN says at run time (`docker run -e MTGATE_LISTEN=…`): its port,
# and its host unless that is a wildcard (then loopback).
HEALTHCHECK --interval=15s --timeout=3s --start-period=5s --retries=3 \
    CMD listen="${MTGATE_LISTEN:-127.0.0.1:8000}"; host="${listen%:*}"; port="${listen##*:}"; \
        case "$host" in 0.0.0.0|"[::]"|"") host=127.0.0.1 ;; esac; \
        curl -fsS "http://$host:$port/health/live" || exit 1
# SIGTERM (docker stop) drains in-flight requests and disconnects cleanly.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/mtgate"]
CMD ["serve"]
