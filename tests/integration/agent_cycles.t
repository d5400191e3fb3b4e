#!/bin/bash
# 100 pods created and deleted through the API, one after another (some
# names reused, so a new pod takes the place of an old one of the same
# name), leave nothing on the node: no process, cgroup, mount, veth, IP
# allocation, nftables element, state or log file.
. "$(dirname "$0")/agent_lib.sh"

cluster_up

ST=${NODE_STATE[node1]}
NS=${NODE_NS[node1]}
TABLE=skiff_node1$SUFFIX
# elements of the table's sets and maps (Services' and pods')
elements() {
	innode node1 nft -j list table ip "$TABLE" 2>/dev/null |
		jq '[.nftables[] | (.set // .map) | select(. != null) | (.elem // []) | length] | add'
}
baseline=$(elements)
diag "nftables elements before: $baseline"

N=${CYCLES:-100}
fails=0
for i in $(seq 1 "$N"); do
	name=c$((i % 7))
	cat >"$TEST_TMP/c.yaml" <<EOF
apiVersion: v1
kind: Pod
metadata: {name: $name}
spec:
  terminationGracePeriodSeconds: 5
  volumes: [{name: scratch, emptyDir: {}}, {name: mem, emptyDir: {medium: Memory}}]
  containers:
  - name: c
    image: busybox:latest
    command: ["sh", "-c", "trap 'exit 0' TERM; echo hi > /scratch/f; sleep 3600 & wait"]
    ports: [{containerPort: 80, hostPort: $((20000 + i))}]
    volumeMounts: [{name: scratch, mountPath: /scratch}, {name: mem, mountPath: /mem}]
EOF
	if ! k create -f "$TEST_TMP/c.yaml" >/dev/null 2>"$TEST_TMP/c.err"; then
		fails=$((fails + 1))
		diag "cycle $i: create: $(cat "$TEST_TMP/c.err")"
		continue
	fi
	if ! wait_for $((20 * T)) pod_phase_is "$name" Running; then
		fails=$((fails + 1))
		diag "cycle $i: $name not Running: $(jp "pod/$name" '{.status}')"
	fi
	if [[ $i == 2 ]]; then
		during=$(elements)
		ok "a running pod has nftables elements (its hostPort, hairpin: $during)" \
			test "$during" -gt "$baseline"
	fi
	k delete pod "$name" >/dev/null 2>&1
	if ! wait_for $((20 * T)) pod_gone "$name"; then
		fails=$((fails + 1))
		diag "cycle $i: $name not gone"
	fi
done
is "$fails" 0 "$N create/Running/delete cycles"

settled() { [[ $(pod_processes) == 0 && -z $(ls "$ST" | grep -v -x -e logs -e data -e net -e netns) ]]; }
ok "the node settles" wait_for 10 settled
is "$(pod_processes)" 0 "no process in the pods' cgroups"
is "$(pgrep -f "__supervisor $ST/" | wc -l)" 0 "no supervisor"
left=""
for d in $(cg_roots); do
	[[ -d $d ]] && left+=$(find "$d" -mindepth 1 -type d 2>/dev/null)
done
is "$left" "" "no pod or container cgroup left"
is "$(awk -v s="$ST" 'index($5, s) == 1 && $5 != s "/netns"' /proc/self/mountinfo)" "" \
	"no mount left below the node's state (emptyDir tmpfs, shm, overlays)"
is "$(innode node1 ip -o link show type veth | wc -l)" 0 "no veth left"
is "$(innode node1 ip -o link show master skbr1 | wc -l)" 0 "nothing on the bridge"
is "$(ls "$ST/net/ipam" 2>/dev/null | grep -v -x -e lock -e last)" "" "no IP allocation left"
is "$(ls "$ST/net/pods" 2>/dev/null)" "" "no pod network state left"
is "$(ls "$ST/netns" 2>/dev/null)" "" "no network namespace mount left"
is "$(elements)" "$baseline" "no nftables element left (hostPorts, hairpin)"
is "$(ls "$ST" | grep -v -x -e logs -e data -e net -e netns)" "" "no pod state directory left"
is "$(ls "$ST/logs" 2>/dev/null)" "" "no log directory left"
is "$(ls "$ST/data" 2>/dev/null)" "" "no volume directory left"
is "$(k get pods --no-headers 2>/dev/null | wc -l)" 0 "no pod left in the API"
done_testing
