#!/bin/sh
# Install the Debian packages skiff's build, tests and benchmarks need.
# Idempotent and quick when everything is present (one dpkg query).
set -eu
cd "$(dirname "$0")/.."
pkgs=$(grep -v '^#' scripts/packages.txt | tr -s ' \n' ' ')
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq || true
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing
