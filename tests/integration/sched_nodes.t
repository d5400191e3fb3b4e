#!/bin/bash
# Nodes in a real `skiff server`: pod CIDRs from --cluster-cidr (distinct,
# kept across a restart, given back when a Node goes, an event when none
# is left) and the node lifecycle (a node whose Lease lapses becomes
# Ready=Unknown with the unreachable taints, its pods leave Ready; it
# recovers when its agent reports again).
. "$(dirname "$0")/sched_lib.sh"

# four /24 blocks only, and a short grace period
srv_start --cluster-cidr 10.123.0.0/22 --node-monitor-grace-period 3s

cidr_of() {
	req GET "/api/v1/nodes/$1"
	jqb '.spec.podCIDR // ""'
}
has_cidr() { [[ -n $(cidr_of "$1") ]]; }
all_cidrs() {
	local n
	for n in "$@"; do has_cidr "$n" || return 1; done
}

# ---- pod CIDRs
mknode n1 2 4Gi
mknode n2 2 4Gi
mknode n3 2 4Gi
renew_start n1 n2 n3
ok "three nodes get a pod CIDR" wait_for 10 all_cidrs n1 n2 n3
c1=$(cidr_of n1) c2=$(cidr_of n2) c3=$(cidr_of n3)
is "$(printf '%s\n' "$c1" "$c2" "$c3" | sort -u | wc -l)" 3 "... all different ($c1 $c2 $c3)"
like "$c1 $c2 $c3" '^10\.123\.[0-3]\.0/24 10\.123\.[0-3]\.0/24 10\.123\.[0-3]\.0/24$' \
	"... /24 blocks of the cluster CIDR"
req GET /api/v1/nodes/n1
is "$(jqb '.spec.podCIDRs | join(",")')" "$c1" "spec.podCIDRs holds the same block"

# a Node that comes with its own CIDR keeps it; the block counts as taken
free=$(for b in 0 1 2 3; do echo "10.123.$b.0/24"; done | grep -vxF -e "$c1" -e "$c2" -e "$c3")
req POST /api/v1/nodes "{\"metadata\":{\"name\":\"n4\"},\"spec\":{\"podCIDR\":\"$free\",\"podCIDRs\":[\"$free\"]}}"
expect 201 "create a node with its own podCIDR"
req POST /api/v1/nodes '{"metadata":{"name":"n5"}}'
expect 201 "create a fifth node: no block left"
cidr_event() {
	req GET "/api/v1/namespaces/default/events?fieldSelector=involvedObject.name%3D$1%2Creason%3DCIDRNotAvailable"
	[[ $(jqb '.items | length') -ge 1 ]]
}
ok "... a CIDRNotAvailable event" wait_for 10 cidr_event n5
is "$(jqb '.items[0].message')" "Node n5 status is now: CIDRNotAvailable" "... as the node controller words it"
is "$(cidr_of n5)" "" "... and no CIDR"
is "$(cidr_of n4)" "$free" "the node with its own CIDR keeps it"

req DELETE /api/v1/nodes/n2
expect 200 "delete n2"
ok "its block goes to the waiting node" wait_for 10 has_cidr n5
is "$(cidr_of n5)" "$c2" "... n2's old block"

# a restart learns what is taken from the Nodes themselves
srv_kill9
srv_launch --cluster-cidr 10.123.0.0/22 --node-monitor-grace-period 3s
renew_stop
renew_start n1 n3
req POST /api/v1/nodes '{"metadata":{"name":"n6"}}'
ok "after a restart, the cluster CIDR is still full" wait_for 10 cidr_event n6
is "$(cidr_of n6)" "" "... a new node gets nothing that is in use"
is "$(cidr_of n1) $(cidr_of n3) $(cidr_of n4) $(cidr_of n5)" "$c1 $c3 $free $c2" \
	"... and nobody lost theirs"
req DELETE /api/v1/nodes/n3
ok "a block freed after the restart is handed out" wait_for 10 has_cidr n6
is "$(cidr_of n6)" "$c3" "... n3's"
req DELETE /api/v1/nodes/n4
req DELETE /api/v1/nodes/n5
req DELETE /api/v1/nodes/n6

# ---- lifecycle: one node keeps renewing its Lease, the other stops
renew_stop
mknode alive 2 4Gi
mknode dead 2 4Gi
renew_start n1 alive
mkpod onalive '{}' '{"nodeName":"alive"}'
mkpod ondead '{}' '{"nodeName":"dead"}'
for p in onalive ondead; do
	req PATCH "$NS/pods/$p/status" '{"status":{"phase":"Running","podIP":"10.123.9.9","conditions":[{"type":"Ready","status":"True"}]}}' \
		application/merge-patch+json
done
is "$(node_condition dead Ready status)" True "the silent node starts Ready"
unknown() { [[ $(node_condition "$1" Ready status) == Unknown ]]; }
ok "once its Lease lapses it becomes Ready=Unknown" wait_for 20 unknown dead
is "$(node_condition dead Ready reason)" NodeStatusUnknown "... reason NodeStatusUnknown"
is "$(node_condition dead Ready message)" "Kubelet stopped posting node status." \
	"... message as Kubernetes"
is "$(node_condition dead MemoryPressure status)" Unknown "MemoryPressure Unknown too"
is "$(node_condition dead MemoryPressure reason)" NodeStatusNeverUpdated \
	"... never posted by this agent: NodeStatusNeverUpdated"
unreachable_taints() {
	req GET /api/v1/nodes/dead
	[[ $(jqb '[.spec.taints[]? | select(.key == "node.kubernetes.io/unreachable") | .effect] | sort | join(",")') == NoExecute,NoSchedule ]]
}
ok "it gets the unreachable taints (NoSchedule, NoExecute)" wait_for 10 unreachable_taints
like "$(jqb '.spec.taints[] | select(.effect == "NoExecute") | .timeAdded')" '^20[0-9-]+T' \
	"... the NoExecute one with timeAdded"
pod_not_ready() { [[ $(pod_condition "$1" Ready status) == False ]]; }
ok "its pods are marked not Ready" wait_for 10 pod_not_ready ondead
is "$(pod_condition onalive Ready status)" True "the other node's pods stay Ready"
is "$(node_condition alive Ready status)" True "the node that renews its Lease stays Ready"
req GET "$NS/events?fieldSelector=involvedObject.name%3Ddead%2Creason%3DNodeNotReady"
is "$(jqb '.items[0].message')" "Node dead status is now: NodeNotReady" "a NodeNotReady event"
req GET "$NS/pods/ondead"
is "$(jqb '.metadata.deletionTimestamp // "none"')" none \
	"pods tolerate unreachable for 300 s (DefaultTolerationSeconds): not evicted yet"

# the agent comes back
node_status dead 2 4Gi True
renew_stop
renew_start n1 alive dead
ready() { [[ $(node_condition "$1" Ready status) == True ]]; }
no_taints() {
	req GET /api/v1/nodes/dead
	[[ $(jqb '.spec.taints // [] | length') == 0 ]]
}
ok "when it reports again it is Ready" wait_for 10 ready dead
ok "... and its taints go" wait_for 10 no_taints
sleep 4
is "$(node_condition dead Ready status)" True "... and stays Ready while it renews its Lease"
done_testing
