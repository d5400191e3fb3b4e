#!/bin/bash
# The node lifecycle with real agents: two nodes, each in a network
# namespace of its own (node1: `skiff server` with its agent; node2:
# `skiff agent` joined with the node token). A Service has a pod on each.
# When node2's agent dies (kill -9), node2 becomes Ready=Unknown once its
# Lease lapses, gets the unreachable taints, its pod leaves the Service's
# addresses and new pods for it wait; when the agent is back, all of that
# is undone and the waiting pod runs there.
. "$(dirname "$0")/agent_lib.sh"

GRACE=15 # the agent renews its Lease every 10 s

build_images
node_ns node1
node_ns node2
ip link add "lk1$SUFFIX" netns "${NODE_NS[node1]}" type veth peer name eth0 netns "${NODE_NS[node2]}" ||
	cannot_run "a veth pair between the nodes"
innode node1 ip link set "lk1$SUFFIX" name eth0
innode node1 ip addr add 192.168.78.1/24 dev eth0
innode node2 ip addr add 192.168.78.2/24 dev eth0
innode node1 ip link set eth0 up
innode node2 ip link set eth0 up
mkdir -p "$SRV_DIR"
SRV_LISTEN=192.168.78.1:0 AGENT_LISTEN=0.0.0.0:0 server_start --node-monitor-grace-period ${GRACE}s
ok "node1 Ready" wait_for $((30 * T)) node_ready node1
url=$(sed -n 's/^ *server: *//p' "$KUBECONFIG_FILE" | head -1)
agent_start node2 --server "$url" --token-file "$SRV_DIR/node-token" --listen 0.0.0.0:0
ok "node2 joins and is Ready" wait_for $((30 * T)) node_ready node2

k create -f "$(manifest svc <<'EOF'
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: http}]
EOF
)" >/dev/null
for n in 1 2; do
	k create -f "$(manifest web$n <<EOF
apiVersion: v1
kind: Pod
metadata: {name: web$n, labels: {app: web}}
spec:
  nodeSelector: {kubernetes.io/hostname: node$n}
  terminationGracePeriodSeconds: 0
  containers:
  - name: httpd
    image: web:latest
    command: ["/usr/sbin/httpd", "-f", "-p", "8888", "-h", "/www"]
    ports: [{name: http, containerPort: 8888}]
    readinessProbe: {httpGet: {path: /healthz, port: 8888}, periodSeconds: 1}
EOF
)" >/dev/null
done
for n in 1 2; do ok "web$n Ready on node$n" wait_for $((30 * T)) pod_ready web$n; done
ip1=$(jp pod/web1 '{.status.podIP}') ip2=$(jp pod/web2 '{.status.podIP}')
ready_ips() { jp endpoints/web '{.subsets[*].addresses[*].ip}' | tr ' ' '\n' | sort | tr '\n' ' '; }
not_ready_ips() { jp endpoints/web '{.subsets[*].notReadyAddresses[*].ip}' | tr ' ' '\n' | sort | tr '\n' ' '; }
both=$(printf '%s\n' "$ip1" "$ip2" | sort | tr '\n' ' ')
ready_ips_are() { [[ $(ready_ips) == "$1" ]]; }
ok "the Service's Endpoints list both pods ($both)" wait_for 10 ready_ips_are "$both"
is "$(jp endpoints/web '{.subsets[0].ports[0].port}')" 8888 "... on the named port's number"

# ---- node2's agent dies
kill -9 "${NODE_PID[node2]}"
wait "${NODE_PID[node2]}" 2>/dev/null
unknown() { [[ $(jp node/node2 '{.status.conditions[?(@.type=="Ready")].status}') == Unknown ]]; }
ok "node2 becomes Ready=Unknown when its Lease lapses" wait_for $((GRACE + 20)) unknown
is "$(jp node/node2 '{.status.conditions[?(@.type=="Ready")].reason}')" NodeStatusUnknown \
	"... NodeStatusUnknown"
is "$(k get nodes --no-headers | awk '{print $1, $2}' | tr '\n' ' ')" "node1 Ready node2 NotReady " \
	"skiff get nodes shows it NotReady"
tainted() { [[ $(jp node/node2 '{.spec.taints[*].key}') == *node.kubernetes.io/unreachable* ]]; }
ok "... with the unreachable taint" wait_for 10 tainted
ok "its pod leaves the Service's addresses" wait_for 10 ready_ips_are "$ip1 "
is "$(not_ready_ips)" "$ip2 " "... for notReadyAddresses"
is "$(jp pod/web2 '{.status.conditions[?(@.type=="Ready")].status}')" False "the pod is not Ready"
sup=$(supervisor_pid web2 node2)
ok "... while its containers keep running on node2" kill -0 "$sup"
node_ready node1 && pass "node1 stays Ready" || fail "node1 stays Ready"

k create -f "$(manifest late <<'EOF'
apiVersion: v1
kind: Pod
metadata: {name: late}
spec:
  nodeSelector: {kubernetes.io/hostname: node2}
  terminationGracePeriodSeconds: 0
  containers:
  - {name: c, image: busybox:latest, command: ["sleep", "3600"]}
EOF
)" >/dev/null
unsched() { [[ $(jp pod/late '{.status.conditions[?(@.type=="PodScheduled")].reason}') == Unschedulable ]]; }
ok "a pod for node2 waits" wait_for 10 unsched
like "$(jp pod/late '{.status.conditions[?(@.type=="PodScheduled")].message}')" \
	'1 node\(s\) had untolerated taint \{node.kubernetes.io/unreachable: \}' "... for the unreachable taint"

# ---- the agent comes back
agent_start node2 --server "$url" --token-file "$SRV_DIR/node-token" --listen 0.0.0.0:0
ok "node2 is Ready again" wait_for $((30 * T)) node_ready node2
untainted() { [[ -z $(jp node/node2 '{.spec.taints[*].key}') ]]; }
ok "... its taints are gone" wait_for 10 untainted
ok "the pod is Ready again (the same supervisor: adopted)" wait_for $((30 * T)) pod_ready web2
is "$(supervisor_pid web2 node2)" "$sup" "... not started twice"
ok "the Service lists both pods again" wait_for 10 ready_ips_are "$both"
ok "the waiting pod is scheduled to node2 and runs" wait_for $((30 * T)) pod_phase_is late Running
is "$(jp pod/late '{.spec.nodeName}')" node2 "... on node2"
done_testing
