#!/bin/bash
# skiff and kubectl 1.33 side by side on the same server: the same
# command must print the same bytes (ages masked, since a second may pass
# between the two runs), and fail with the same message.
. "$(dirname "$0")/cli_lib.sh"

have_kubectl || cannot_run "needs kubectl 1.33 at $KUBECTL133"
start_server
M=$TEST_TMP/manifests
mkdir -p "$M"
cat >"$M/all.yaml" <<'Y'
apiVersion: v1
kind: Pod
metadata:
  name: web
  labels: {app: test-app, tier: fe}
  annotations: {team: blue}
spec:
  containers:
  - name: c
    image: busybox:latest
    command: ["sleep", "3600"]
    env: [{name: A, value: "1"}]
    ports: [{containerPort: 8888, name: http}]
    resources:
      requests: {cpu: 100m, memory: 64Mi}
      limits: {cpu: "1", memory: 128Mi}
---
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
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: hello
spec:
  replicas: 2
  selector:
    matchLabels: {app: hello}
  template:
    metadata:
      labels: {app: hello}
    spec:
      containers:
      - name: c
        image: busybox:1.36
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  mode: fast
  script: |
    echo one
    echo two
Y
cat >"$M/more.yaml" <<'Y'
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: front
  labels: {app: front}
spec:
  replicas: 2
  selector:
    matchLabels: {app: front}
  template:
    metadata:
      labels: {app: front}
    spec:
      containers:
      - name: c
        image: busybox:1.36
        resources:
          limits: {memory: 256Mi}
---
apiVersion: v1
kind: Endpoints
metadata: {name: front}
subsets:
- addresses: [{ip: 10.244.0.5}, {ip: 10.244.0.6}]
  notReadyAddresses: [{ip: 10.244.0.7}]
  ports: [{name: http, port: 8888, protocol: TCP}, {name: metrics, port: 9090, protocol: TCP}]
---
apiVersion: v1
kind: Node
metadata:
  name: node-a
  labels: {kubernetes.io/hostname: node-a, node-role.kubernetes.io/worker: ""}
spec:
  podCIDR: 10.244.1.0/24
  podCIDRs: [10.244.1.0/24]
---
apiVersion: v1
kind: Pod
metadata:
  name: bound
spec:
  nodeName: node-a
  containers:
  - name: c
    image: busybox:latest
    resources:
      requests: {cpu: 250m, memory: 100Mi}
      limits: {cpu: 500m, memory: 200Mi}
Y
run_ok "create the objects" skiff create -f "$M/all.yaml"
run_ok "create more objects" skiff create -f "$M/more.yaml"

mask() { sed -E 's/(^|[ (])[0-9]+(s|m|h|d|y)([0-9]+(s|m|h|d))?( |$)/\1AGE\5/g'; }

# same NAME ARGS...: skiff and kubectl print the same. An age that ticks
# between the two runs can change a column's width, so a mismatch is tried
# again (three times at most) before it counts.
same() {
	local name=$1 s k try
	shift
	for try in 1 2 3; do
		s=$("$SKIFF" --kubeconfig "$KCFG" "$@" 2>&1 | sed 's/^skiff: //' | mask)
		k=$("$KUBECTL133" --kubeconfig "$KCFG" --cache-dir "$TEST_TMP/kubectl-cache" "$@" 2>&1 | mask)
		[[ "$s" == "$k" ]] && break
	done
	if [[ "$s" == "$k" ]]; then
		pass "$name"
	else
		fail "$name" "$(diff <(echo "$k") <(echo "$s") | head -20)"
	fi
}

same "get pods" get pods
same "get pods -o wide" get pods -o wide
same "get pods -A --show-labels" get pods -A --show-labels
same "get pods -L tier" get pods -L tier
same "get svc" get svc
same "get deploy -o wide" get deploy -o wide
same "get all" get all
same "get ns" get ns
same "get ns -A (cluster-scoped: no NAMESPACE)" get ns -A
same "get all -A" get all -A
same "name with a selector" get pods web -l app=x
same "name across namespaces" get pods web -A
same "get pod -o yaml" get pod web -o yaml
same "get pods -o json" get pods -o json
same "get svc -o yaml" get svc test-service -o yaml
same "get cm -o yaml" get configmap settings -o yaml
same "get -o name" get pods,svc,cm -o name
same "describe pod" describe pod web
same "describe deploy" describe deployment hello
same "describe ns" describe namespace default
same "describe rs" describe rs front
same "describe endpoints" describe endpoints front
same "get endpoints" get ep
same "get rs -o wide" get rs -o wide
same "describe node" describe node node-a
same "get nodes -o wide" get nodes -o wide
same "describe pod bound to a node" describe pod bound
same "describe cm" describe cm settings
same "jsonpath names" get pods -o 'jsonpath={.items[*].metadata.name}'
same "jsonpath range" get pods -o 'jsonpath={range .items[*]}{.metadata.name}{"\t"}{.status.phase}{"\n"}{end}'
same "jsonpath filter" get svc -o 'jsonpath={.items[?(@.metadata.name=="test-service")].spec.ports[0].targetPort}'
same "jsonpath map" get pod web -o 'jsonpath={.metadata.labels}{.metadata.annotations.team}'
same "api-resources" api-resources
same "api-resources -o wide" api-resources -o wide
same "api-resources --namespaced=false" api-resources --namespaced=false
same "NotFound" get pod nope
same "unknown type" get gizmos
same "no resources" get pods -l app=none
run_ok "label" skiff label pod web extra=1
same "label conflict" label pod web extra=2
same "label unchanged" label pod web extra=1

done_testing
