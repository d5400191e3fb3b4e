#!/bin/bash
# The agent embedded in `skiff server` (node1, in a network namespace of
# its own): its Node and Lease; a pod created through the API runs with an
# IP, Running, with the kubelet's status and Events; logs (also -f, tail,
# timestamps, previous) and exec with skiff and kubectl 1.33; Service
# variables at container start; graceful deletion (preStop hook, SIGTERM,
# grace period, SIGKILL) then removal from the API and from the node.
. "$(dirname "$0")/agent_lib.sh"

cluster_up
[[ -x $KUBECTL ]] || cannot_run "needs kubectl 1.33 at $KUBECTL"

# ---- the node
is "$(jp node/node1 '{.status.capacity.cpu}')" "$(nproc)" "capacity: cpu from the machine"
cap_mem=$(jp node/node1 '{.status.capacity.memory}')
alloc_mem=$(jp node/node1 '{.status.allocatable.memory}')
like "$cap_mem" '^[0-9]+Ki$' "capacity: memory in Ki ($cap_mem)"
ok "allocatable memory is below capacity (a reserve)" test "${alloc_mem%Ki}" -lt "${cap_mem%Ki}"
is "$(jp node/node1 '{.status.allocatable.pods}')" 110 "allocatable pods: 110"
is "$(jp node/node1 '{.status.conditions[*].type}')" \
	"MemoryPressure DiskPressure PIDPressure Ready" "the kubelet's four conditions"
is "$(jp node/node1 '{.status.conditions[?(@.type=="Ready")].reason}')" KubeletReady \
	"Ready: KubeletReady"
is "$(jp node/node1 '{.status.addresses[?(@.type=="Hostname")].address}')" node1 \
	"a Hostname address"
like "$(jp node/node1 '{.spec.podCIDR}')" '^10\.88\.[0-9]+\.0/24$' "a pod CIDR from the server"
port=$(jp node/node1 '{.status.daemonEndpoints.kubeletEndpoint.Port}')
ok "the agent's endpoint port is published ($port)" test "$port" -gt 0
lease() { jp "lease/node1" '{.spec.renewTime}' 2>/dev/null || true; }
lease_ns() { k get lease node1 -n kube-node-lease -o 'jsonpath={.spec.renewTime}'; }
r1=$(lease_ns)
like "$r1" '^[0-9-]+T[0-9:]+\.[0-9]{6}Z$' "a Lease in kube-node-lease with a MicroTime renewTime"
renewed() { [[ $(lease_ns) != "$r1" ]]; }
ok "the Lease is renewed within 12 s" wait_for 12 renewed
is "$(k get lease node1 -n kube-node-lease -o 'jsonpath={.spec.leaseDurationSeconds}')" 40 \
	"leaseDurationSeconds 40"

# a deleted Node comes back: the agent registers it again
k delete node node1 >/dev/null 2>&1
ok "a deleted Node is registered again by its agent" wait_for 15 node_ready node1

# ---- a pod through the API
k create -f "$(manifest svc <<'EOF'
kind: Service
apiVersion: v1
metadata: {name: test-service}
spec:
  selector: {app: test-app}
  ports: [{protocol: TCP, port: 80, targetPort: 8888}]
EOF
)" >/dev/null
k create -f "$(manifest p1 <<'EOF'
apiVersion: v1
kind: Pod
metadata: {name: p1, labels: {app: other}}
spec:
  containers:
  - name: c
    image: busybox:latest
    command: ["sh", "-c", "echo line 1; echo line 2; echo oops >&2; i=3; while true; do echo line $i; i=$((i+1)); sleep 0.2; done"]
    env: [{name: MY_IP, valueFrom: {fieldRef: {fieldPath: status.podIP}}}]
EOF
)" >/dev/null
ok "the pod is Running" wait_for $((20 * T)) pod_phase_is p1 Running
ok "... and Ready" wait_for $((10 * T)) pod_ready p1
ip=$(jp pod/p1 '{.status.podIP}')
like "$ip" '^10\.88\.[0-9]+\.[0-9]+$' "it has a pod IP ($ip)"
is "$(jp pod/p1 '{.status.hostIP}')" "$(jp node/node1 '{.status.addresses[?(@.type=="InternalIP")].address}')" \
	"hostIP is the node's InternalIP"
is "$(jp pod/p1 '{.spec.nodeName}')" node1 "scheduled to node1"
is "$(jp pod/p1 '{.status.conditions[*].type}')" \
	"PodReadyToStartContainers Initialized Ready ContainersReady PodScheduled" "the kubelet's conditions"
is "$(jp pod/p1 '{.status.containerStatuses[0].state.running.startedAt}' | wc -c)" 20 \
	"containerStatuses: running with startedAt"
is "$(jp pod/p1 '{.status.containerStatuses[0].ready} {.status.containerStatuses[0].started} {.status.containerStatuses[0].restartCount}')" \
	"true true 0" "ready, started, restartCount 0"
like "$(jp pod/p1 '{.status.startTime}')" '^20[0-9-]+T' "startTime"
cpid=$(container_pid p1)
ok "the container's process runs on the node ($cpid)" test -d "/proc/$cpid"
like "$(tr '\0' ' ' <"/proc/$cpid/cmdline")" "^sh -c echo line 1" "... running the pod's command"
ok "Scheduled, Pulled, Created, Started events" has_event p1 Started
is "$(events p1 Created)" "Created container c" "... Created's message"

# ---- logs
have_lines() { [[ $(k logs p1 | grep -c '^line') -ge "$1" ]]; }
ok "skiff logs" wait_for 10 have_lines 5
is "$(k logs p1 | head -2)" $'line 1\nline 2' "stdout in order"
# stdout and stderr are two pipes: their relative order is not kept (as in
# containerd), but both are in the log
is "$(k logs p1 | head -5 | grep -cx oops)" 1 "stderr too"
is "$(k logs p1 --tail 2 | wc -l)" 2 "--tail 2"
like "$(k logs p1 --tail 1 --timestamps)" '^20[0-9-]+T[0-9:.]+Z line [0-9]+$' "--timestamps"
is "$(kubectl logs p1 | head -2)" $'line 1\nline 2' "kubectl logs"
is "$(k logs p1 --limit-bytes 7)" "line 1" "--limit-bytes"
timeout 3 bash -c "KUBECONFIG=$KUBECONFIG_FILE nsenter --net=/run/netns/${NODE_NS[node1]} $KUBECTL logs -f --tail 1 p1" \
	>"$TEST_TMP/follow.out" 2>&1
n=$(grep -c '^line' "$TEST_TMP/follow.out")
ok "kubectl logs -f streams new lines ($n in 3 s)" test "$n" -ge 5
timeout 2 bash -c "KUBECONFIG=$KUBECONFIG_FILE nsenter --net=/run/netns/${NODE_NS[node1]} $SKIFF logs -f p1" \
	>"$TEST_TMP/follow2.out" 2>&1
ok "skiff logs -f streams too" test "$(grep -c '^line' "$TEST_TMP/follow2.out")" -gt 5
like "$(k logs p1 -p 2>&1)" 'previous terminated container "c" in pod "p1" not found' \
	"--previous without a previous run: the kubelet's error"
like "$(k logs p1 -c nope 2>&1)" 'container nope is not valid for pod p1' "an unknown container"

# ---- exec
is "$(k exec p1 -- sh -c 'echo out; echo err >&2' 2>&1)" $'out\nerr' "skiff exec: stdout and stderr"
k exec p1 -- sh -c 'exit 7' 2>"$TEST_TMP/exec.err"
is "$?" 7 "skiff exec: the exit code"
like "$(cat "$TEST_TMP/exec.err")" "command terminated with exit code 7" "... said as kubectl says it"
is "$(echo hello | k exec -i p1 -- tr a-z A-Z)" HELLO "skiff exec -i: stdin"
is "$(k exec p1 -- hostname)" p1 "exec runs in the pod (hostname)"
if command -v script >/dev/null; then
	out=$(KUBECONFIG=$KUBECONFIG_FILE script -qec \
		"nsenter --net=/run/netns/${NODE_NS[node1]} $SKIFF exec -it p1 -- tty" \
		/dev/null < <(sleep 2) | tr -d '\r')
	# /dev/pts/N of the container's own devpts (ttyname works in there)
	like "$out" '^/dev/pts/[0-9]+' "exec -it: the command gets a terminal"
	out=$(KUBECONFIG=$KUBECONFIG_FILE script -qec \
		"nsenter --net=/run/netns/${NODE_NS[node1]} $KUBECTL exec -it p1 -- tty" \
		/dev/null < <(sleep 2) | tr -d '\r')
	like "$out" '^/dev/pts/[0-9]+' "kubectl exec -it: a terminal too"
else
	fail "exec -it needs script(1) (bsdutils)"
fi
is "$(k exec p1 -- sh -c 'echo $MY_IP')" "$ip" "downward API status.podIP"
is "$(k exec p1 -- cat /proc/1/cmdline | tr '\0' ' ' | cut -c1-18)" "sh -c echo line 1;" \
	"exec shares the container's PID namespace"
is "$(kubectl exec p1 -- sh -c 'echo kube; exit 3' 2>&1)" $'kube\ncommand terminated with exit code 3' \
	"kubectl 1.33 exec (WebSocket v5): output and exit code"
is "$(echo hi | kubectl exec -i p1 -- cat)" hi "kubectl exec -i"
like "$(k exec p1 -- nosuchcmd 2>&1)" 'nosuchcmd.*not found' "a missing command: the runtime's message"
like "$(kubectl exec p1 -c nope -- true 2>&1)" 'container nope is not valid for pod p1' \
	"kubectl exec into an unknown container: the error"

# ---- Service variables at container start (the Service existed before)
is "$(k exec p1 -- sh -c 'echo $TEST_SERVICE_SERVICE_HOST:$TEST_SERVICE_SERVICE_PORT')" \
	"$(jp svc/test-service '{.spec.clusterIP}'):80" "{SVC}_SERVICE_HOST and _PORT"
is "$(k exec p1 -- sh -c 'echo $TEST_SERVICE_PORT_80_TCP_PROTO')" tcp "docker-link variables"

# ---- graceful deletion: preStop, SIGTERM, then gone
mkdir -p "$TEST_TMP/hook"
k create -f "$(manifest p2 <<EOF
apiVersion: v1
kind: Pod
metadata: {name: p2}
spec:
  terminationGracePeriodSeconds: 20
  volumes: [{name: h, hostPath: {path: $TEST_TMP/hook}}]
  containers:
  - name: c
    image: busybox:latest
    command: ["sh", "-c", "trap 'echo term >> /h/log; exit 0' TERM; echo started >> /h/log; sleep 3600 & wait"]
    volumeMounts: [{name: h, mountPath: /h}]
    lifecycle: {preStop: {exec: {command: ["sh", "-c", "echo prestop >> /h/log"]}}}
EOF
)" >/dev/null
ok "p2 Running" wait_for $((20 * T)) pod_phase_is p2 Running
sup=$(supervisor_pid p2)
uid=$(jp pod/p2 '{.metadata.uid}')
start=$(date +%s%N)
k delete pod p2 >/dev/null
took=$((($(date +%s%N) - start) / 1000000))
is "$(cat "$TEST_TMP/hook/log")" $'started\nprestop\nterm' "preStop hook, then SIGTERM"
ok "deleted well inside the grace period (${took} ms)" test "$took" -lt 10000
ok "gone from the API" pod_gone p2
ok "its supervisor is gone" wait_for 5 bash -c "! kill -0 $sup 2>/dev/null"
ok "its state is gone" test ! -e "${NODE_STATE[node1]}/default_p2"
ok "its network is gone" test ! -e "${NODE_STATE[node1]}/netns/$uid"
ok "a Killing event" has_event p2 Killing

# a container that ignores SIGTERM: SIGKILL after the grace period
k create -f "$(manifest p3 <<'EOF'
apiVersion: v1
kind: Pod
metadata: {name: p3}
spec:
  terminationGracePeriodSeconds: 2
  containers: [{name: c, image: busybox:latest, command: ["sleep", "3600"]}]
EOF
)" >/dev/null
ok "p3 Running" wait_for $((20 * T)) pod_phase_is p3 Running
start=$(date +%s%N)
k delete pod p3 >/dev/null
took=$((($(date +%s%N) - start) / 1000000))
ok "SIGKILL after the 2 s grace period (${took} ms)" test "$took" -ge 1900 -a "$took" -lt 6000

k delete pod p1 --grace-period 0 >/dev/null 2>&1
ok "the last pod goes" wait_for 10 pod_gone p1
ok "no pod process is left on the node" wait_for 10 test "$(pod_processes)" -eq 0
done_testing
