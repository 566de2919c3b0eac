# The image that runs a score's parts on a cluster (`score export argo`):
# the `score` binary and git, as a non-root user. See docs/scale-out.md.
#
#   docker build -t ghcr.io/acme/score:1 .
#   docker run --rm ghcr.io/acme/score:1 --version
#
# Parts played by `command` agents run their program inside this image:
# build FROM it and add those tools (see docs/scale-out.md).

# ---- build: the release binary, from the locked dependencies
FROM rust:1.88-slim-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin score

# ---- run: Debian with git and CA certificates (HTTPS clones and API calls)
FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends git ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/score /usr/local/bin/score
# The pods read the plan and inputs under /score and write outputs there.
RUN useradd --create-home --uid 10001 --user-group score \
    && mkdir -p /score/inputs /score/outputs \
    && chown -R score:score /score
USER 10001:10001
WORKDIR /home/score
ENTRYPOINT ["score"]
CMD ["--help"]
