#!/bin/bash
# How objects end: finalizers and deletionTimestamp, graceful pod deletion
# (a bound pod waits for its node), cascading deletion by ownerReferences
# (background, foreground, orphan), and namespace deletion through
# Terminating.
. "$(dirname "$0")/server_lib.sh"

srv_start
NS=/api/v1/namespaces/default
RS=/apis/apps/v1/namespaces/default/replicasets

gone() { req GET "$1"; [[ $CODE == 404 ]]; }

# ---- finalizers
req POST $NS/configmaps '{"metadata":{"name":"fin","finalizers":["example.com/hold"]}}'
req DELETE $NS/configmaps/fin
expect 200 "DELETE an object with a finalizer"
req GET $NS/configmaps/fin
expect 200 "... it stays"
like "$(jqb .metadata.deletionTimestamp)" '^20.*Z$' "... with a deletionTimestamp"
rv=$(jqb .metadata.resourceVersion)
req PATCH $NS/configmaps/fin '{"metadata":{"finalizers":["example.com/hold","example.com/new"]}}' \
	application/merge-patch+json
expect_status 422 Invalid "no new finalizers while it is being deleted"
req PATCH $NS/configmaps/fin '{"metadata":{"labels":{"still":"writable"}}}' \
	application/merge-patch+json
expect 200 "other changes are still allowed"
req PATCH $NS/configmaps/fin '{"metadata":{"finalizers":null}}' application/merge-patch+json
expect 200 "remove the last finalizer"
ok "... and the object is gone" gone $NS/configmaps/fin

# ---- graceful pod deletion
req POST $NS/pods "$(pod_json bound '{}' '{"nodeName":"node-1","terminationGracePeriodSeconds":20}')"
req DELETE $NS/pods/bound
expect 200 "DELETE a pod bound to a node"
is "$(jqb .metadata.deletionGracePeriodSeconds)" 20 "... it gets its grace period"
req GET $NS/pods/bound
expect 200 "... and stays until its node confirms"
ts1=$(jqb .metadata.deletionTimestamp)
req DELETE $NS/pods/bound '{"gracePeriodSeconds":5}'
is "$(jqb .metadata.deletionGracePeriodSeconds)" 5 "a shorter grace period replaces the longer"
req DELETE $NS/pods/bound '{"gracePeriodSeconds":60}'
is "$(jqb .metadata.deletionGracePeriodSeconds)" 5 "a longer one does not"
uid=$(jqb .metadata.uid)
req DELETE $NS/pods/bound '{"gracePeriodSeconds":0,"preconditions":{"uid":"00000000-0000-4000-8000-000000000000"}}'
expect_status 409 Conflict "the node's confirmation checks the uid precondition"
req DELETE $NS/pods/bound "{\"kind\":\"DeleteOptions\",\"apiVersion\":\"v1\",\"gracePeriodSeconds\":0,\"preconditions\":{\"uid\":\"$uid\"}}"
expect 200 "the node confirms: DELETE with gracePeriodSeconds=0"
ok "... the pod is gone" gone $NS/pods/bound
req POST $NS/pods "$(pod_json unbound)"
req DELETE $NS/pods/unbound
ok "an unbound pod goes at once" gone $NS/pods/unbound
req POST $NS/pods "$(pod_json zero '{}' '{"nodeName":"node-1"}')"
req DELETE "$NS/pods/zero?gracePeriodSeconds=0"
ok "a bound pod with gracePeriodSeconds=0 goes at once" gone $NS/pods/zero

# ---- cascading deletion: Background
owner_ref() { # KIND NAME UID [BLOCK]
	jq -cn --arg k "$1" --arg n "$2" --arg u "$3" --argjson b "${4:-true}" \
		'[{apiVersion:"apps/v1",kind:$k,name:$n,uid:$u,controller:true,blockOwnerDeletion:$b}]'
}
rs_json() {
	jq -cn --arg n "$1" '{apiVersion:"apps/v1",kind:"ReplicaSet",metadata:{name:$n},
		spec:{replicas:1,selector:{matchLabels:{rs:$n}},
		      template:{metadata:{labels:{rs:$n}},spec:{containers:[{name:"c",image:"x"}]}}}}'
}
make_family() { # NAME: a ReplicaSet owning two pods
	req POST $RS "$(rs_json "$1")"
	local u
	u=$(jqb .metadata.uid)
	for i in 1 2; do
		req POST $NS/pods "$(pod_json "$1-$i" "{\"rs\":\"$1\"}" | jq -c --argjson o "$(owner_ref ReplicaSet "$1" "$u")" '.metadata.ownerReferences=$o')"
	done
	echo "$u"
}
make_family bg >/dev/null
req DELETE $RS/bg '{"propagationPolicy":"Background"}'
expect 200 "DELETE an owner, Background"
ok "... the owner goes at once" gone $RS/bg
ok "... the garbage collector deletes its dependents" wait_for 10 gone $NS/pods/bg-2

# a dependent with another live owner only loses the reference
req POST $NS/configmaps '{"metadata":{"name":"keeper"}}'
keeper=$(jqb .metadata.uid)
u=$(make_family shared)
refs=$(jq -cn --argjson a "$(owner_ref ReplicaSet shared "$u")" --arg k "$keeper" \
	'$a + [{apiVersion:"v1",kind:"ConfigMap",name:"keeper",uid:$k}]')
req PATCH $NS/pods/shared-1 "{\"metadata\":{\"ownerReferences\":$refs}}" application/merge-patch+json
req DELETE $RS/shared
ok "a dependent without other owners is deleted" wait_for 10 gone $NS/pods/shared-2
has_one_owner() {
	req GET $NS/pods/shared-1
	[[ $(jqb '[.metadata.ownerReferences[].name] | join(",")') == keeper ]]
}
ok "a dependent with another live owner stays, without the dead reference" wait_for 10 has_one_owner

# ---- Foreground
make_family fg >/dev/null
req PATCH $NS/pods/fg-1 '{"metadata":{"finalizers":["example.com/slow"]}}' application/merge-patch+json
req DELETE $RS/fg '{"propagationPolicy":"Foreground"}'
expect 200 "DELETE an owner, Foreground"
is "$(jqb '.metadata.finalizers | index("foregroundDeletion") != null')" true \
	"... it gets the foregroundDeletion finalizer"
ok "... its dependents are deleted first" wait_for 10 gone $NS/pods/fg-2
req GET $RS/fg
expect 200 "... while a blocking dependent remains, the owner stays"
like "$(jqb .metadata.deletionTimestamp)" '^20' "... marked for deletion"
req GET $NS/pods/fg-1
like "$(jqb .metadata.deletionTimestamp)" '^20' "the blocking dependent is being deleted"
req PATCH $NS/pods/fg-1 '{"metadata":{"finalizers":null}}' application/merge-patch+json
ok "when the last dependent goes, so does the owner" wait_for 10 gone $RS/fg

# ---- Orphan
make_family or >/dev/null
req DELETE $RS/or '{"propagationPolicy":"Orphan"}'
expect 200 "DELETE an owner, Orphan"
ok "... the owner goes" wait_for 10 gone $RS/or
orphaned() {
	req GET $NS/pods/or-1
	[[ $CODE == 200 && $(jqb '.metadata.ownerReferences // [] | length') == 0 ]]
}
ok "... its dependents stay, with no owner reference" wait_for 10 orphaned
req GET $NS/pods/or-2
expect 200 "... both of them"

# ---- a dependent whose owner never existed is collected
req POST $NS/pods "$(pod_json dangling | jq -c --argjson o "$(owner_ref ReplicaSet ghost 0a0a0a0a-0000-4000-8000-000000000000)" '.metadata.ownerReferences=$o')"
ok "a dependent of an owner that does not exist is deleted" wait_for 10 gone $NS/pods/dangling

# ---- namespaces
req DELETE /api/v1/namespaces/default
expect_status 403 Forbidden "the default namespace cannot be deleted"
req POST /api/v1/namespaces/nope/configmaps '{"metadata":{"name":"x"}}'
expect_status 404 NotFound "creating in a missing namespace: 404"
is "$(jqb .message)" 'namespaces "nope" not found' "... namespaces \"nope\" not found"
req POST /api/v1/namespaces '{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"doomed"}}'
expect 201 "create a namespace"
is "$(jqb '.spec.finalizers | join(",")')" kubernetes "... with the kubernetes finalizer"
req POST /api/v1/namespaces/doomed/configmaps '{"metadata":{"name":"c1"}}'
req POST /api/v1/namespaces/doomed/pods "$(pod_json p1)"
req POST /api/v1/namespaces/doomed/configmaps '{"metadata":{"name":"held","finalizers":["example.com/hold"]}}'
req POST /apis/apps/v1/namespaces/doomed/replicasets "$(rs_json r1)"
req DELETE /api/v1/namespaces/doomed
expect 200 "DELETE the namespace"
is "$(jqb .status.phase)" Terminating "... it is Terminating"
req POST /api/v1/namespaces/doomed/configmaps '{"metadata":{"name":"late"}}'
expect_status 403 Forbidden "creating in a terminating namespace: 403"
like "$(jqb .message)" "unable to create new content in namespace doomed because it is being terminated" \
	"... because it is being terminated"
emptied() { [[ $(count /api/v1/namespaces/doomed/configmaps) == 1 && $(count /api/v1/namespaces/doomed/pods) == 0 ]]; }
ok "its contents are deleted" wait_for 10 emptied
req GET /api/v1/namespaces/doomed
expect 200 "the namespace waits for the object with a finalizer"
req PATCH /api/v1/namespaces/doomed/configmaps/held '{"metadata":{"finalizers":null}}' \
	application/merge-patch+json
ok "... then it is gone" wait_for 10 gone /api/v1/namespaces/doomed
req GET /api/v1/namespaces/doomed/configmaps
is "$CODE $(jqb '.items | length')" "200 0" "listing in it now: an empty list"
req POST /api/v1/namespaces '{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"doomed"}}'
expect 201 "a namespace of the same name can be made again"
is "$(count /apis/apps/v1/namespaces/doomed/replicasets)" 0 "... and it is empty"

done_testing
