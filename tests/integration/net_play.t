#!/bin/bash
# skiff play with networking: every pod gets an IP on the node's bridge
# (shown by skiff ps and in its /etc/hosts), pods reach each other and the
# hostPort answers on the node; play --down removes the pod networks. The
# node is a network namespace of the test's own.
. "$(dirname "$0")/runtime_common.sh"
need_cmd ip nsenter nft busybox timeout
rt_setup
if ! "$SKIFF_TOP/rootfs-examples/build.sh" --image-dir "$IMAGES" --out "$TEST_TMP/rootfs-ex" web >"$TEST_TMP/web.log" 2>&1; then
	fail "build the web image" "$(cat "$TEST_TMP/web.log")"
	done_testing
fi
NODE=skp-$TEST_ID
ip netns add "$NODE" || cannot_run "ip netns add failed"
defer "ip netns del $NODE"
defer "nsenter --net=/run/netns/$NODE $SKIFF net-node cleanup --state-dir $STATE"
innode() { nsenter --net="/run/netns/$NODE" "$@"; }
innode ip link set lo up
innode nft add table ip keepme

f=$(manifest pods <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: web-1}
spec:
  containers:
  - name: web
    image: web:latest
    ports: [{containerPort: 8888, hostPort: 8080}]
---
apiVersion: v1
kind: Pod
metadata: {name: web-2}
spec:
  containers:
  - {name: web, image: web:latest}
---
apiVersion: v1
kind: Pod
metadata: {name: host}
spec:
  hostNetwork: true
  containers:
  - {name: c, image: busybox:latest, command: [sleep, "3600"]}
YAML
)
defer "nsenter --net=/run/netns/$NODE $SKIFF play --down --state-dir $STATE --image-dir $IMAGES --cgroup-root $CG_ROOT $f"
out=$(innode "$SKIFF" play --detach --state-dir "$STATE" --image-dir "$IMAGES" --cgroup-root "$CG_ROOT" "$f" 2>&1)
like "$out" "pod/web-1 started" "play starts the pods" || diag "$out"
ps_out=$("$SKIFF" ps --state-dir "$STATE" 2>&1)
ip1=$(awk '$1 == "web-1" {print $5}' <<<"$ps_out")
ip2=$(awk '$1 == "web-2" {print $5}' <<<"$ps_out")
like "$ip1" '^10\.88\.0\.[0-9]+$' "skiff ps shows web-1's IP" || diag "$ps_out"
like "$ip2" '^10\.88\.0\.[0-9]+$' "skiff ps shows web-2's IP"
unlike "$(awk '$1 == "host" {print $5}' <<<"$ps_out")" '^10\.88\.' "a hostNetwork pod gets no pod IP"
ok "no netns made for the hostNetwork pod" test ! -e "$STATE/netns/default_host"

# the container's own view: its /etc/hosts names its IP
pid=$(awk '$1 == "container" && $2 == "web" {c = 1} c && $1 == "pid" {print $2; exit}' "$STATE/default_web-1/status")
like "$(cat "/proc/$pid/root/etc/hosts" 2>/dev/null)" "$ip1" "web-1's /etc/hosts holds its IP"
is "$(stat -L -c %i "/proc/$pid/ns/net")" "$(stat -L -c %i "$STATE/netns/default_web-1")" "the container runs in the netns netns/ made"

fetch_in() { nsenter --net="$1" timeout 3 busybox wget -q -O- "$2" 2>/dev/null; }
wait_for 10 sh -c "nsenter --net=$STATE/netns/default_web-2 timeout 2 busybox wget -q -O- http://$ip1:8888/ >/dev/null 2>&1"
is "$(fetch_in "$STATE/netns/default_web-2" "http://$ip1:8888/")" "web-1" "web-2's network reaches web-1's server by pod IP"
is "$(innode timeout 3 busybox wget -q -O- http://10.88.0.1:8080/ 2>/dev/null)" "web-1" "the hostPort answers from the node"

play() { innode "$SKIFF" play "$@" --state-dir "$STATE" --image-dir "$IMAGES" --cgroup-root "$CG_ROOT" 2>&1; }
# a pod of its own keeps the node network up while the first ones go
other=$(manifest other <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: other}
spec:
  containers:
  - {name: web, image: web:latest}
YAML
)
defer "nsenter --net=/run/netns/$NODE $SKIFF play --down --state-dir $STATE --image-dir $IMAGES --cgroup-root $CG_ROOT $other"
out=$(play --detach "$other")
like "$out" "pod/other started" "a pod of another manifest starts" || diag "$out"
ipo=$(awk '$1 == "other" {print $5}' <<<"$("$SKIFF" ps --state-dir "$STATE" 2>&1)")
out=$(play --down "$f")
like "$out" "pod/web-1 removed" "play --down removes the pods"
ok "the node network stays while a pod uses it" test -n "$(innode ip -o link show skiff0 2>/dev/null)"
is "$(ls "$STATE/net/ipam" | grep '^10\.' | tr '\n' ' ')" "$ipo " "the removed pods' IPs were released, the other's kept"
unlike "$(innode nft list map ip skiff hostports)" "8080" "the hostPort is gone"
is "$(fetch_in "$STATE/netns/default_other" "http://$ipo:8888/")" "other" "... and that pod still answers"
# the same pods again at once, while the kernel may still hold the old veths
out=$(play --detach "$f")
like "$out" "pod/web-1 started" "the same pods start again right after --down" || diag "$out"
out=$(play --down "$f")
like "$out" "pod/web-2 removed" "and go again"
out=$(play --down "$other")
like "$out" "pod/other removed" "the last pod goes"
is "$(ls "$STATE/netns" 2>/dev/null | wc -l)" "0" "no pod netns left"
no_veth() { [[ $(innode ip -o link show type veth | wc -l) == 0 ]]; }
wait_for 20 no_veth # the kernel destroys a released netns in a worker
is "$(innode ip -o link show type veth | wc -l)" "0" "no veth left"
ok "with the last pod, the bridge is removed" test -z "$(innode ip -o link show skiff0 2>/dev/null)"
ok "... and skiff's nftables table" test -z "$(innode nft list tables | grep -w skiff)"
ok "... and the IPAM state (every IP released)" test ! -e "$STATE/net"
ok "nothing else in the node's ruleset was touched" test -n "$(innode nft list table ip keepme 2>/dev/null)"
done_testing
