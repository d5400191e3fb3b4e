#!/bin/bash
# Manifests skiff play refuses: malformed YAML (file:line:column), wrong
# PodSpecs (the field path and the reason), unknown images, other kinds.
# One line "skiff: ...", exit status 1, nothing started.
. "$(dirname "$0")/runtime_common.sh"
rt_setup

# refused NAME WANT-REGEX: the manifest on stdin is refused with one line
refused() {
	local f out rc
	f=$(manifest "$1")
	out=$(play --detach "$f" 2>&1)
	rc=$?
	is "$rc" 1 "$1: exit status 1"
	like "$out" "$2" "$1: the error says why"
	is "$(printf '%s\n' "$out" | wc -l)" 1 "$1: on one line"
}

refused malformed "^skiff: $TEST_TMP/malformed.yaml:5:1: did not find expected node content$" <<'YAML'
kind: Pod
metadata:
  name: x
  spec: [
YAML
refused tabs "^skiff: $TEST_TMP/tabs.yaml:3:1: found character that cannot start any token$" <<'YAML'
kind: Pod
metadata:
	name: x
YAML
refused noimage '^skiff: .*noimage.yaml: pod "x": spec.containers\[0\].image: required$' <<'YAML'
kind: Pod
metadata: {name: x}
spec:
  containers:
  - name: a
YAML
refused quantity '^skiff: .*: pod "x": spec.containers\[0\].resources.limits.memory: quantity "12x" must match the regular expression' <<'YAML'
kind: Pod
metadata: {name: x}
spec:
  containers:
  - name: a
    image: busybox:latest
    resources: {limits: {memory: 12x}}
YAML
refused unknownimage "^skiff: .*: pod \"x\": spec.containers\[0\].image: image \"nosuch:1\" not found in $IMAGES" <<'YAML'
kind: Pod
metadata: {name: x}
spec:
  containers: [{name: a, image: "nosuch:1"}]
YAML
refused nocontainers '^skiff: .*: pod "x": spec.containers: Required value$' <<'YAML'
kind: Pod
metadata: {name: x}
spec: {}
YAML
refused noname '^skiff: .*: metadata.name: Required value' <<'YAML'
kind: Pod
metadata: {}
spec:
  containers: [{name: a, image: busybox:latest}]
YAML
refused service '^skiff: .*service.yaml: document 1: kind "Service" is not supported by skiff play \(only Pod\)$' <<'YAML'
kind: Service
apiVersion: v1
metadata:
  name: test-service
spec:
  selector:
    app: test-app
  ports:
  - protocol: TCP
    port: 80
    targetPort: 8888
YAML
refused seconddoc '^skiff: .*seconddoc.yaml: pod "y": spec.restartPolicy: Unsupported value: "Sometimes"' <<'YAML'
kind: Pod
metadata: {name: x}
spec:
  containers: [{name: a, image: busybox:latest, command: ["true"]}]
---
kind: Pod
metadata: {name: y}
spec:
  restartPolicy: Sometimes
  containers: [{name: a, image: busybox:latest}]
YAML
ok "a refused file starts nothing (not even its valid first pod)" \
	test -z "$(ls "$STATE" 2>/dev/null | grep -v -e logs -e data -e '^\.')"
out=$("$SKIFF" play --down --state-dir "$STATE" "$TEST_TMP/seconddoc.yaml" 2>&1)
is "$out" "skiff: pod default_x not found in $STATE
skiff: pod default_y not found in $STATE" "play --down of pods that do not run says so, per pod"
ok "skiff play without a file is an error" sh -c "! '$SKIFF' play --detach 2>/dev/null"
done_testing
