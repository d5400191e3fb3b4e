#!/bin/bash
# A second node joins: `skiff agent` in a network namespace of its own,
# linked to node1's by a veth pair, with only the server's URL and the
# node token (K10<sha256 of the CA>::..., the CA fetched and checked).
# It registers, gets a pod CIDR of its own, runs pods bound to it, and the
# server proxies logs and exec to it. With both nodes, pods with requests
# fill one node before the other, and one too large for both is
# Unschedulable with the reason.
. "$(dirname "$0")/agent_lib.sh"

build_images
node_ns node1
node_ns node2
ip link add "lk1$SUFFIX" netns "${NODE_NS[node1]}" type veth peer name eth0 netns "${NODE_NS[node2]}" ||
	cannot_run "a veth pair between the nodes"
innode node1 ip link set "lk1$SUFFIX" name eth0
innode node1 ip addr add 192.168.77.1/24 dev eth0
innode node2 ip addr add 192.168.77.2/24 dev eth0
innode node1 ip link set eth0 up
innode node2 ip link set eth0 up
mkdir -p "$SRV_DIR"
SRV_LISTEN=192.168.77.1:0 AGENT_LISTEN=0.0.0.0:0 server_start
ok "node1 Ready" wait_for $((30 * T)) node_ready node1
is "$(jp node/node1 '{.status.addresses[?(@.type=="InternalIP")].address}')" 192.168.77.1 \
	"node1's InternalIP: the address that reaches the server"
url=$(sed -n 's/^ *server: *//p' "$KUBECONFIG_FILE" | head -1)
like "$(cat "$SRV_DIR/node-token")" '^K10[0-9a-f]{64}::' "the server's node token"

# a wrong CA hash is refused before anything is sent
sed 's/^K10./K10x/' "$SRV_DIR/node-token" >"$TEST_TMP/bad-token"
out=$(innode node2 "$SKIFF" agent --server "$url" --token-file "$TEST_TMP/bad-token" \
	$(node_opts node2) --data-dir "$TEST_TMP/agent-bad" 2>&1)
like "$out" "does not match the join token" "a token whose CA hash differs is refused"

agent_start node2 --server "$url" --token-file "$SRV_DIR/node-token" --listen 0.0.0.0:0
ok "node2 joins and is Ready" wait_for $((30 * T)) node_ready node2
is "$(jp node/node2 '{.status.addresses[?(@.type=="InternalIP")].address}')" 192.168.77.2 \
	"node2's InternalIP"
c1=$(jp node/node1 '{.spec.podCIDR}') c2=$(jp node/node2 '{.spec.podCIDR}')
ok "each node has its own pod CIDR ($c1, $c2)" test -n "$c2" -a "$c1" != "$c2"
is "$(k get nodes --no-headers | awk '{print $1, $2}' | tr '\n' ' ')" "node1 Ready node2 Ready " \
	"skiff get nodes"

# ---- a pod on node2, logs and exec through the server
k create -f "$(manifest on2 <<'EOF'
apiVersion: v1
kind: Pod
metadata: {name: on2}
spec:
  nodeSelector: {kubernetes.io/hostname: node2}
  terminationGracePeriodSeconds: 0
  containers:
  - {name: c, image: busybox:latest, command: ["sh", "-c", "echo from node2; sleep 3600"]}
EOF
)" >/dev/null
ok "a pod runs on node2" wait_for $((20 * T)) pod_phase_is on2 Running
is "$(jp pod/on2 '{.spec.nodeName}')" node2 "... bound to node2"
like "$(jp pod/on2 '{.status.podIP}')" "^${c2%0/24}" "... with an IP of node2's pod CIDR"
ok "... run by node2's runtime" test -e "${NODE_STATE[node2]}/default_on2/pod.conf"
has_log() { [[ $(k logs on2) == "from node2" ]]; }
ok "logs through the server from node2's agent" wait_for 5 has_log
is "$(k exec on2 -- hostname)" on2 "exec through the server on node2"
is "$(kubectl exec on2 -- sh -c 'echo $((6*7))')" 42 "kubectl exec on node2"
k delete pod on2 >/dev/null 2>&1
ok "its deletion is finished by node2" wait_for 15 pod_gone on2
# (grace period 0: the API lets it go at once, the node removes it then)
ok "... which removes it" wait_for 10 test ! -e "${NODE_STATE[node2]}/default_on2"

# ---- bin packing: one node fills up before the other is used
alloc=$(jp node/node1 '{.status.allocatable.cpu}')
alloc_m=${alloc%m}
[[ $alloc == *m ]] || alloc_m=$((alloc * 1000))
req=$((alloc_m / 2 - 50))
diag "allocatable cpu $alloc: pods request ${req}m"
for i in 1 2 3 4; do
	k create -f "$(manifest bp$i <<EOF
apiVersion: v1
kind: Pod
metadata: {name: bp$i}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: c
    image: busybox:latest
    command: ["sleep", "3600"]
    resources: {requests: {cpu: ${req}m}}
EOF
)" >/dev/null
	bound() { [[ -n $(jp "pod/$1" '{.spec.nodeName}') ]]; }
	wait_for 10 bound "bp$i"
done
n1=$(jp pod/bp1 '{.spec.nodeName}') n2=$(jp pod/bp2 '{.spec.nodeName}')
n3=$(jp pod/bp3 '{.spec.nodeName}') n4=$(jp pod/bp4 '{.spec.nodeName}')
diag "bp1..4 on $n1 $n2 $n3 $n4"
is "$n2" "$n1" "the second pod goes to the first pod's node (most allocated first)"
ok "the third and fourth go to the other node" test "$n3" = "$n4" -a "$n3" != "$n1"
for i in 1 2 3 4; do ok "bp$i Running" wait_for $((20 * T)) pod_phase_is "bp$i" Running; done
k create -f "$(manifest big <<'EOF'
apiVersion: v1
kind: Pod
metadata: {name: big}
spec:
  containers:
  - {name: c, image: busybox:latest, command: ["sleep", "3600"], resources: {requests: {cpu: "64"}}}
EOF
)" >/dev/null
unsched() { [[ $(jp pod/big '{.status.conditions[?(@.type=="PodScheduled")].reason}') == Unschedulable ]]; }
ok "a pod too large for both nodes is Unschedulable" wait_for 10 unsched
like "$(jp pod/big '{.status.conditions[?(@.type=="PodScheduled")].message}')" \
	'0/2 nodes are available: 2 Insufficient cpu' "... saying why"
done_testing
