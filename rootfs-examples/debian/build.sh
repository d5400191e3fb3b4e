#!/bin/sh
# Build the Debian example rootfs in OUT with debootstrap (minbase: about
# 200 MB, a few minutes, needs Debian's mirror). Optional: not part of
# `make rootfs` or CI; `make rootfs-debian` or
#   rootfs-examples/build.sh debian
# builds and imports it. SUITE and MIRROR may be set.
#   rootfs-examples/debian/build.sh OUT
set -eu
out=${1:?usage: $0 OUT}
suite=${SUITE:-bookworm}
mirror=${MIRROR:-http://deb.debian.org/debian}

if ! command -v debootstrap >/dev/null; then
	echo "debootstrap is missing: apt-get install debootstrap" >&2
	exit 1
fi
# debootstrap is slow: keep a finished tree unless asked to rebuild
if [ -e "$out.complete" ] && [ -z "${REBUILD:-}" ]; then
	exit 0
fi
rm -rf "$out" "$out.complete"
debootstrap --variant=minbase "$suite" "$out" "$mirror"
rm -rf "$out"/var/cache/apt/archives/*.deb "$out"/var/lib/apt/lists/*
: >"$out.complete"
