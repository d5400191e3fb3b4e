#!/bin/bash
# Debian's kubectl 1.20 (package kubernetes-client, which cannot be
# installed beside gcloud's kubectl: extracted into a cache dir) drives the
# server through issue 4's commands.
. "$(dirname "$0")/kubectl_lib.sh"

CACHE=${SKIFF_TEST_CACHE:-/var/cache/skiff-tests}/kubernetes-client
KUBECTL120=$CACHE/usr/bin/kubectl

fetch_kubectl120() {
	local tmp
	[[ -x $KUBECTL120 ]] && return 0
	need_cmd apt-get dpkg-deb
	tmp=$(mktemp -d "$TEST_TMP/deb.XXXXXX")
	(cd "$tmp" && apt-get download kubernetes-client >/dev/null 2>&1) ||
		(apt-get update -qq >/dev/null 2>&1 && cd "$tmp" && apt-get download kubernetes-client >/dev/null 2>&1) ||
		return 1
	mkdir -p "$CACHE.new"
	dpkg-deb -x "$tmp"/kubernetes-client_*.deb "$CACHE.new" || return 1
	rm -rf "$CACHE"
	mv "$CACHE.new" "$CACHE"
}
fetch_kubectl120 || cannot_run "cannot fetch Debian's kubernetes-client (apt-get download)"
like "$("$KUBECTL120" version --client --short 2>/dev/null)" "v1\\.20\\." "Debian's kubectl is 1.20"
kubectl_scenario "$KUBECTL120"

done_testing
