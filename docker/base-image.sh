#!/bin/sh
# Makes sure the base image debian:bookworm-slim exists: pulled from a registry when one
# is reachable, else built from Debian's packages with debootstrap (no registry needed).
# Usage: docker/base-image.sh [docker-command]
set -eu
DOCKER=${1:-${DOCKER:-docker}}
IMAGE=debian:bookworm-slim
if $DOCKER image inspect "$IMAGE" >/dev/null 2>&1; then exit 0; fi
if $DOCKER pull -q "$IMAGE" >/dev/null 2>&1; then exit 0; fi
command -v debootstrap >/dev/null 2>&1 || {
  echo "no registry and no debootstrap: cannot make $IMAGE" >&2; exit 1; }
ROOTFS=$(mktemp -d /tmp/smsbridge-rootfs.XXXXXX)
trap 'rm -rf "$ROOTFS"' EXIT
debootstrap --variant=minbase bookworm "$ROOTFS" "${DEBIAN_MIRROR:-http://deb.debian.org/debian}" >/dev/null
tar -C "$ROOTFS" -c . | $DOCKER import - "$IMAGE" >/dev/null
echo "built $IMAGE with debootstrap"
