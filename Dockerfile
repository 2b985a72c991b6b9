# residue's own image: a Swift build stage, then a runtime stage with only the binary, the
# shared libraries it loads and the CA bundle (for docker:// registries). No shell, no
# toolchain, no sources; the detection rules are built into the binary.
#
#   docker build -t residue .
#   docker run --rm -v "$PWD:/work:ro" residue scan /work/app.tar
#
# CI cannot pull the Swift image (no network): scripts/build-image.sh builds the same runtime
# stage from a binary built on the host (--build-arg ROOTFS_FROM=prebuilt) with buildah, then
# scans the result with residue itself, which must report nothing.
ARG SWIFT_IMAGE=docker.io/library/swift:6.1-bookworm
ARG ROOTFS_FROM=build

FROM ${SWIFT_IMAGE} AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libarchive-dev libpcre2-dev libssl-dev libcurl4-openssl-dev libsqlite3-dev libisal-dev pkg-config ca-certificates binutils \
      "$(dpkg --print-architecture | grep -qx amd64 && echo libhyperscan-dev || echo libvectorscan-dev)" \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Package.swift ./
COPY Plugins Plugins
COPY Sources Sources
COPY Rules Rules
COPY scripts/collect-runtime.sh scripts/
RUN swift build -c release --product residue --static-swift-stdlib \
 && scripts/collect-runtime.sh .build/release/residue /rootfs

# The runtime files from a binary built elsewhere (CI): rootfs/ in the build context.
FROM scratch AS prebuilt
COPY rootfs/ /rootfs/

FROM ${ROOTFS_FROM} AS rootfs

FROM scratch
COPY --from=rootfs /rootfs/ /
LABEL org.opencontainers.image.title="residue" \
      org.opencontainers.image.description="Finds the secrets that container image builds leave behind"
USER 65534:65534
WORKDIR /work
ENTRYPOINT ["/usr/local/bin/residue"]
CMD ["--help"]
