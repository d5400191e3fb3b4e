#!/bin/bash
# Pod networking: addresses, pod-to-pod, pod-to-node, hostPorts, egress
# NAT, IPAM persistence and concurrency, resolv.conf, hostNetwork-free
# teardown.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/net_lib.sh"

node_up || { fail "node up"; done_testing; }
pass "node network up"
like "$(innode ip -br addr show "$BR")" "10\.88\.0\.1/24" "bridge has the pod CIDR's first address"
is "$(innode cat /proc/sys/net/ipv4/ip_forward)" "1" "IP forwarding on in the node"
ok "skiff's table exists" quiet innode nft list table ip "$TABLE"
ok "node up is idempotent" quiet netcmd net-node up
is "$(innode nft list chain ip "$TABLE" nat-postrouting | grep -c masquerade)" "3" "base rules not duplicated by a second up"

pod_add a && pod_add b || fail "pod add"
like "${POD_IP[a]}" '^10\.88\.0\.[0-9]+$' "pod a got an address in the pod CIDR"
[[ ${POD_IP[a]} != "${POD_IP[b]}" ]] && pass "two pods, two addresses" || fail "two pods, two addresses"
like "$(inpod a ip -br addr show eth0)" "UP +${POD_IP[a]}/24" "eth0 up with the pod IP"
like "$(inpod a ip -br addr show lo)" "UNKNOWN +127\.0\.0\.1/8" "lo up in the pod"
like "$(inpod a ip route show default)" "default via 10\.88\.0\.1 dev eth0" "default route via the bridge"
veth=$(netcmd net-pod get a | cut -d' ' -f3)
like "$(innode ip -d link show "$veth")" "master $BR" "host end of the veth on the bridge"
like "$(innode bridge -d link show dev "$veth")" "hairpin on" "hairpin mode on the pod's port"

ok "pod a pings pod b" quiet inpod a busybox ping -c 1 -W 2 "${POD_IP[b]}"
serve b 80 "hello from b"
is "$(inpod a sh -c "timeout 3 busybox wget -q -O- http://${POD_IP[b]}/")" "hello from b" "pod a fetches from pod b over TCP"
ok "pod a pings the node" quiet inpod a busybox ping -c 1 -W 2 10.88.0.1
mkdir -p "$TEST_TMP/nodeweb" && echo "node page" >"$TEST_TMP/nodeweb/index.html"
background nsenter --net="/run/netns/$NODE" busybox httpd -f -p 10.88.0.1:8001 -h "$TEST_TMP/nodeweb"
wait_for 3 innode sh -c "busybox netstat -ltn | grep -q ':8001 '"
is "$(inpod a sh -c 'timeout 3 busybox wget -q -O- http://10.88.0.1:8001/')" "node page" "pod reaches a server on the node"

# hostPort: on the node's addresses, from the node itself and from outside
pod_add h -p tcp:8080:80 || fail "pod with hostPort"
serve h 80 "hostport page"
is "$(innode timeout 3 busybox wget -q -O- http://10.88.0.1:8080/)" "hostport page" "hostPort answers from the node (bridge address)"
ip netns add "$NODE-x" && defer "ip netns del $NODE-x"
innode ip link add skup type veth peer name eth0 netns "$NODE-x"
innode ip addr add 192.0.2.1/24 dev skup && innode ip link set skup up
nsenter --net="/run/netns/$NODE-x" sh -c 'ip addr add 192.0.2.2/24 dev eth0 && ip link set eth0 up && ip link set lo up'
is "$(innode timeout 3 busybox wget -q -O- http://192.0.2.1:8080/)" "hostport page" "hostPort answers from the node (another address)"
is "$(nsenter --net="/run/netns/$NODE-x" timeout 3 busybox wget -q -O- http://192.0.2.1:8080/)" "hostport page" "hostPort answers from another host"
is "$(inpod h sh -c 'timeout 3 busybox wget -q -O- http://192.0.2.1:8080/')" "hostport page" "a pod reaches its own hostPort (hairpin)"
out=$(netcmd net-pod add h2 -p tcp:8080:81 2>&1)
like "$out" "hostPort" "a hostPort already taken is an error"
ok "and the failed pod left no netns" test ! -e "$STATE/netns/h2"

# egress: the outside host has no route to the pod CIDR, so an answer
# comes back only if the pod's traffic was masqueraded to the node address
mkdir -p "$TEST_TMP/ext" && echo "outside" >"$TEST_TMP/ext/index.html"
background nsenter --net="/run/netns/$NODE-x" busybox httpd -f -p 80 -h "$TEST_TMP/ext"
wait_for 3 nsenter --net="/run/netns/$NODE-x" sh -c "busybox netstat -ltn | grep -q ':80 '"
is "$(inpod a sh -c 'timeout 3 busybox wget -q -O- http://192.0.2.2/')" "outside" "pod traffic leaving the cluster CIDR is masqueraded"

# resolv.conf
want=$'nameserver 10.88.0.1\nsearch web.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5'
is "$(netcmd net-resolv web)" "$want" "ClusterFirst resolv.conf"
is "$(netcmd net-resolv web --default)" "$(cat /etc/resolv.conf)" "Default uses the host's resolv.conf"

# IPAM: persisted, never twice (several processes at once), released
ip_a=${POD_IP[a]}
is "$(netcmd net-pod get a | cut -d' ' -f1)" "$ip_a" "a later process sees the same allocation"
pids=()
for i in $(seq 1 20); do
	netcmd net-pod add "c$i" >"$TEST_TMP/c$i.out" 2>&1 &
	pids+=($!)
done
wait "${pids[@]}"
ips=$(cut -d' ' -f1 "$TEST_TMP"/c*.out | sort)
is "$(echo "$ips" | grep -c '^10\.88\.0\.')" "20" "20 pods created concurrently got addresses"
is "$(echo "$ips" | sort -u | wc -l)" "20" "no address handed out twice"
for i in $(seq 1 20); do netcmd net-pod del "c$i"; done
is "$(ls "$STATE/net/ipam" | grep -c '^10\.')" "3" "deleted pods released their addresses"
ok "pod teardown is idempotent" quiet netcmd net-pod del c1

# exhaustion on a node whose pod CIDR is a /29 (5 pod addresses)
SMALL=(--state-dir "$TEST_TMP/small" --bridge "${BR}s" --table "${TABLE}_s" --pod-cidr 10.88.9.0/29)
defer "nsenter --net=/run/netns/$NODE $SKIFF net-node cleanup ${SMALL[*]}"
innode "$SKIFF" net-node up "${SMALL[@]}"
for i in 1 2 3 4 5; do innode "$SKIFF" net-pod add "s$i" "${SMALL[@]}" >/dev/null; done
out=$(innode "$SKIFF" net-pod add s6 "${SMALL[@]}" 2>&1)
like "$out" "no free address left in the pod CIDR" "exhaustion is a clear error"

# teardown leaves nothing
netcmd net-pod del h
unlike "$(innode nft list map ip "$TABLE" hostports)" "8080" "hostPort element removed with its pod"
ok "netns mount removed" test ! -e "$STATE/netns/h"
unlike "$(grep "$STATE/netns/h " /proc/self/mountinfo)" "." "no netns mount left"
done_testing
