# loudqc container image (issue 19): a build stage with the Rust toolchain, and a small runtime
# stage with only the binary. loudqc is pure Rust over glibc (no OpenSSL, no C audio libraries),
# so the runtime is distroless "cc" (glibc + libgcc, no shell, no package manager; ~25 MB).
#
#   docker build -t loudqc:0.1 .
#   docker run --rm -v /media:/media loudqc:0.1 check /media/deliveries --format json
#
# The entrypoint is loudqc itself, so it is PID 1 and receives the SIGTERM of a pod eviction or
# a `docker stop` directly: it stops cleanly with exit 143 (see docs/batch.md, exit codes).

# --- build -----------------------------------------------------------------------------------
# rust-version in Cargo.toml is 1.89 (AVX-512 intrinsics, for pulp's x86-v4 dispatch); any newer
# stable toolchain builds it.
FROM rust:1-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY benches ./benches
COPY examples ./examples
COPY tests ./tests
# --locked: exactly the dependency versions of Cargo.lock.
RUN cargo build --release --locked --bin loudqc \
    && strip target/release/loudqc \
    && ./target/release/loudqc --version

# --- runtime ---------------------------------------------------------------------------------
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /src/target/release/loudqc /usr/local/bin/loudqc
# nonroot (65532): loudqc only reads its inputs and writes --output/--csv/--html files; give the
# results volume write access for that user (or run with --user).
USER nonroot
ENTRYPOINT ["/usr/local/bin/loudqc"]
CMD ["--help"]
