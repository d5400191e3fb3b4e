#!/bin/bash
# Every verb on real objects, and what the apiserver fills in: uid,
# creationTimestamp, resourceVersion as the store's revision, generation,
# generateName, defaults, unknown fields kept, 409 and 404; subresources
# status, binding and scale; dryRun.
. "$(dirname "$0")/server_lib.sh"

srv_start
NS=/api/v1/namespaces/default

# ---- create
req POST $NS/pods "$(pod_json web '{"app":"web"}' '{"futureField":{"keep":"me"}}')"
expect 201 "POST a pod: 201 Created"
uid=$(jqb .metadata.uid)
rv1=$(jqb .metadata.resourceVersion)
like "$uid" '^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$' "uid is a UUID v4"
like "$(jqb .metadata.creationTimestamp)" '^20[0-9]{2}-[01][0-9]-[0-3][0-9]T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$' \
	"creationTimestamp is RFC 3339 UTC"
like "$rv1" '^[0-9]+$' "resourceVersion is the store revision"
is "$(jqb .metadata.namespace)" default "the namespace comes from the URL"
is "$(jqb .spec.restartPolicy)" Always "defaults: restartPolicy Always"
is "$(jqb .spec.terminationGracePeriodSeconds)" 30 "defaults: terminationGracePeriodSeconds 30"
is "$(jqb .spec.dnsPolicy)" ClusterFirst "defaults: dnsPolicy ClusterFirst"
is "$(jqb '.spec.containers[0].terminationMessagePath')" /dev/termination-log \
	"defaults: container terminationMessagePath"
is "$(jqb .status.phase)" Pending "a new pod is Pending"
is "$(jqb .spec.futureField.keep)" me "an unknown field is kept"
req GET $NS/pods/web
expect 200 "GET the pod"
is "$(jqb .metadata.uid)" "$uid" "... the same uid"
is "$(jqb .spec.futureField.keep)" me "... the unknown field was stored"
is "$(jqb '.kind + " " + .apiVersion')" "Pod v1" "GET carries kind and apiVersion"

req POST $NS/pods "$(pod_json web)"
expect_status 409 AlreadyExists "POST it again: 409 AlreadyExists"
is "$(jqb .message)" 'pods "web" already exists' "... with the apiserver's message"
is "$(jqb '.details.name + " " + .details.kind')" "web pods" "... and details"

req POST $NS/pods '{"apiVersion":"v1","kind":"Pod","metadata":{"generateName":"gen-"},"spec":{"containers":[{"name":"c","image":"x"}]}}'
expect 201 "POST with generateName"
like "$(jqb .metadata.name)" '^gen-[a-z0-9]{5}$' "... gets gen- and 5 random characters"

req POST $NS/pods 'apiVersion: v1
kind: Pod
metadata: {name: from-yaml}
spec:
  containers: [{name: c, image: busybox}]' application/yaml
expect 201 "POST a YAML body"
req POST /api/v1/namespaces/default/configmaps '{"metadata":{"name":"bare"},"data":{"a":"1"}}' ""
expect 201 "POST without Content-Type or kind/apiVersion (treated as JSON, kind from the URL)"
is "$(jqb '.kind + " " + .apiVersion')" "ConfigMap v1" "... kind and apiVersion filled in"

# ---- get and list of missing things
req GET $NS/pods/nope
expect_status 404 NotFound "GET a missing pod: 404"
is "$(jqb .message)" 'pods "nope" not found' "... pods \"nope\" not found"
req GET /apis/apps/v1/namespaces/default/deployments/nope
is "$(jqb .message)" 'deployments.apps "nope" not found' "a missing deployment: deployments.apps \"nope\" not found"
req GET /api/v1/namespaces/no-such-ns/pods
expect 200 "LIST in a missing namespace: 200"
is "$(jqb '.kind + " " + (.items|length|tostring)')" "PodList 0" "... an empty PodList"
req GET /api/v1/pods
is "$(jqb .kind)" PodList "LIST across namespaces"
like "$(jqb .metadata.resourceVersion)" '^[0-9]+$' "a list carries the current resourceVersion"

# ---- update (PUT)
req GET $NS/pods/web
obj=$BODY
req PUT $NS/pods/web "$(jq -c '.metadata.labels.tier="front"' <<<"$obj")"
expect 200 "PUT with the current resourceVersion"
rv2=$(jqb .metadata.resourceVersion)
((rv2 > rv1)) && pass "the resourceVersion moved on" || fail "the resourceVersion moved on" "$rv1 -> $rv2"
req PUT $NS/pods/web "$(jq -c '.metadata.labels.tier="back"' <<<"$obj")"
expect_status 409 Conflict "PUT with a stale resourceVersion: 409 Conflict"
is "$(jqb .message)" 'Operation cannot be fulfilled on pods "web": the object has been modified; please apply your changes to the latest version and try again' \
	"... with the apiserver's message"
req GET $NS/pods/web
is "$(jqb .metadata.labels.tier)" front "the stale write changed nothing"
req PUT $NS/pods/web "$BODY"
expect 200 "PUT of the object unchanged"
is "$(jqb .metadata.resourceVersion)" "$rv2" "a no-op write does not bump the resourceVersion"
req PUT $NS/pods/web "$(jq -c 'del(.metadata.resourceVersion) | .metadata.labels.u="1"' <<<"$BODY")"
expect 200 "PUT without a resourceVersion is unconditional"
req PUT $NS/pods/other "$(pod_json web)"
expect_status 400 BadRequest "PUT whose body names another object: 400"
req PUT $NS/pods/missing "$(pod_json missing)"
expect_status 404 NotFound "PUT of a missing pod: 404 (no create on update for pods)"

# ---- patch, the three kinds
req PATCH $NS/pods/web '{"metadata":{"labels":{"patched":"merge"}}}' application/merge-patch+json
expect 200 "merge patch"
is "$(jqb .metadata.labels.patched)" merge "... applied"
req PATCH $NS/pods/web '[{"op":"replace","path":"/metadata/labels/patched","value":"json"},{"op":"add","path":"/metadata/annotations","value":{}},{"op":"add","path":"/metadata/annotations/example.com~1note","value":"x"}]' \
	application/json-patch+json
expect 200 "JSON patch"
is "$(jqb .metadata.labels.patched)" json "... replace applied"
is "$(jqb '.metadata.annotations["example.com/note"]')" x "... ~1 unescaped to /"
req PATCH $NS/pods/web '[{"op":"test","path":"/metadata/labels/patched","value":"nope"}]' \
	application/json-patch+json
expect_status 422 Invalid "a failing JSON patch test: 422"
req PATCH $NS/pods/web '{"spec":{"containers":[{"name":"c","image":"busybox:1.37"}]}}' \
	application/strategic-merge-patch+json
expect 200 "strategic merge patch"
is "$(jqb '.spec.containers | length')" 1 "... containers merged by name"
is "$(jqb '.spec.containers[0].command[0]')" sleep "... the container kept its command"
is "$(jqb '.spec.containers[0].image')" busybox:1.37 "... and got the new image"
req PATCH $NS/pods/web '{"metadata":{"labels":{"x":"y"}}}' application/apply-patch+yaml
expect_status 415 UnsupportedMediaType "an unsupported patch type: 415"
req PATCH $NS/pods/web '{not json' application/merge-patch+json
expect_status 400 BadRequest "a malformed patch: 400"
req PATCH $NS/pods/nope '{"metadata":{"labels":{"x":"y"}}}' application/merge-patch+json
expect_status 404 NotFound "patching a missing pod: 404"
req GET $NS/pods/web
rv=$(jqb .metadata.resourceVersion)
req PATCH $NS/pods/web "{\"metadata\":{\"resourceVersion\":\"$((rv - 1))\",\"labels\":{\"x\":\"y\"}}}" \
	application/merge-patch+json
expect_status 409 Conflict "a patch naming a stale resourceVersion: 409"

# ---- generation follows the spec
req POST /apis/apps/v1/namespaces/default/deployments '{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},"spec":{"replicas":2,"selector":{"matchLabels":{"app":"d"}},"template":{"metadata":{"labels":{"app":"d"}},"spec":{"containers":[{"name":"c","image":"nginx:1.19"}]}}}}'
expect 201 "create a Deployment"
is "$(jqb .metadata.generation)" 1 "generation 1"
is "$(jqb .spec.strategy.type)" RollingUpdate "defaults: strategy RollingUpdate"
req PATCH /apis/apps/v1/namespaces/default/deployments/d '{"metadata":{"labels":{"l":"1"}}}' \
	application/merge-patch+json
is "$(jqb .metadata.generation)" 1 "a metadata change keeps generation"
req PATCH /apis/apps/v1/namespaces/default/deployments/d '{"spec":{"replicas":3}}' \
	application/merge-patch+json
is "$(jqb .metadata.generation)" 2 "a spec change bumps generation"

# ---- status subresource
req PATCH /apis/apps/v1/namespaces/default/deployments/d '{"status":{"replicas":7}}' \
	application/merge-patch+json
is "$(jqb '.status.replicas // "none"')" none "a write to the main resource keeps the stored status"
req PATCH /apis/apps/v1/namespaces/default/deployments/d/status '{"status":{"replicas":7,"observedGeneration":2},"spec":{"replicas":9}}' \
	application/merge-patch+json
expect 200 "PATCH deployments/d/status"
is "$(jqb .status.replicas)" 7 "... writes the status"
is "$(jqb .spec.replicas)" 3 "... and ignores the spec"
is "$(jqb .metadata.generation)" 2 "... and keeps generation"
req GET /apis/apps/v1/namespaces/default/deployments/d/status
is "$(jqb '.kind + " " + (.status.replicas|tostring)')" "Deployment 7" "GET .../status"

# ---- scale
req GET /apis/apps/v1/namespaces/default/deployments/d/scale
expect 200 "GET deployments/d/scale"
is "$(jqb '.kind + " " + .apiVersion + " " + (.spec.replicas|tostring)')" "Scale autoscaling/v1 3" \
	"... an autoscaling/v1 Scale"
is "$(jqb .status.selector)" app=d "... with the selector"
req PATCH /apis/apps/v1/namespaces/default/deployments/d/scale '{"spec":{"replicas":5}}' \
	application/merge-patch+json
is "$(jqb '.kind + " " + (.spec.replicas|tostring)')" "Scale 5" "PATCH .../scale answers a Scale"
req PUT /apis/apps/v1/namespaces/default/deployments/d/scale '{"kind":"Scale","apiVersion":"autoscaling/v1","metadata":{"name":"d","namespace":"default"},"spec":{"replicas":4}}' ""
expect 200 "PUT .../scale without Content-Type (as kubectl --current-replicas)"
req GET /apis/apps/v1/namespaces/default/deployments/d
is "$(jqb .spec.replicas)" 4 "the deployment's replicas follow the scale"
req PUT /apis/apps/v1/namespaces/default/deployments/d/scale '{"kind":"Scale","apiVersion":"autoscaling/v1","metadata":{"name":"d","resourceVersion":"1"},"spec":{"replicas":6}}'
expect_status 409 Conflict "PUT .../scale with a stale resourceVersion: 409"

# ---- binding
req POST $NS/pods/web/binding '{"apiVersion":"v1","kind":"Binding","metadata":{"name":"web"},"target":{"apiVersion":"v1","kind":"Node","name":"node-1"}}'
expect 201 "POST pods/web/binding: 201"
is "$(jqb '.kind + " " + .status')" "Status Success" "... answers a Success Status"
req GET $NS/pods/web
is "$(jqb .spec.nodeName)" node-1 "the pod is bound to node-1"
is "$(jqb '.status.conditions[] | select(.type=="PodScheduled") | .status')" True \
	"... with PodScheduled=True"
req POST $NS/pods/web/binding '{"apiVersion":"v1","kind":"Binding","metadata":{"name":"web"},"target":{"kind":"Node","name":"node-2"}}'
expect_status 409 Conflict "binding a bound pod again: 409"
req PATCH $NS/pods/web/status '{"status":{"phase":"Running","podIP":"10.244.0.5"}}' \
	application/merge-patch+json
expect 200 "PATCH pods/web/status (what an agent does)"
req GET "$NS/pods?fieldSelector=status.phase%3DRunning"
is "$(jqb '[.items[].metadata.name]|join(",")')" web "the status is stored (listed by status.phase)"

# ---- dryRun
n=$(count $NS/configmaps)
req POST "$NS/configmaps?dryRun=All" '{"metadata":{"name":"dry"},"data":{"a":"b"}}'
expect 201 "POST with dryRun=All: 201"
is "$(count $NS/configmaps)" "$n" "... nothing stored"
req DELETE "$NS/configmaps/bare?dryRun=All"
expect 200 "DELETE with dryRun=All"
req GET $NS/configmaps/bare
expect 200 "... the configmap is still there"

# ---- delete
req DELETE $NS/configmaps/bare
expect 200 "DELETE a configmap"
is "$(jqb '.kind + " " + .status + " " + .details.name + " " + .details.kind')" \
	"Status Success bare configmaps" "... answers a Success Status with details"
like "$(jqb .details.uid)" '^[0-9a-f-]{36}$' "... carrying the uid"
req DELETE $NS/configmaps/bare
expect_status 404 NotFound "DELETE it again: 404"
req POST $NS/configmaps '{"metadata":{"name":"pre"}}'
req DELETE $NS/configmaps/pre '{"preconditions":{"uid":"00000000-0000-4000-8000-000000000000"}}'
expect_status 409 Conflict "DELETE with a wrong uid precondition: 409"
req DELETE $NS/configmaps/pre '{"preconditions":{"resourceVersion":"1"}}'
expect_status 409 Conflict "DELETE with a stale resourceVersion precondition: 409"
req DELETE $NS/pods/from-yaml
expect 200 "DELETE an unbound pod"
is "$(jqb '.kind + " " + .metadata.name')" "Pod from-yaml" "... answers the pod, as the apiserver"
req GET $NS/pods/from-yaml
expect_status 404 NotFound "... and it is gone at once (no node to wait for)"

# ---- deletecollection
for i in 1 2 3; do req POST $NS/configmaps "{\"metadata\":{\"name\":\"dc$i\",\"labels\":{\"set\":\"dc\"}}}"; done
req POST $NS/configmaps '{"metadata":{"name":"keep","labels":{"set":"other"}}}'
req DELETE "$NS/configmaps?labelSelector=set%3Ddc"
expect 200 "DELETE collection with a label selector"
is "$(jqb '.kind + " " + (.items|length|tostring)')" "ConfigMapList 3" "... lists the three deleted"
is "$(count "$NS/configmaps?labelSelector=set")" 1 "... and only the other one is left"

# ---- cluster-scoped kinds
req POST /api/v1/nodes '{"apiVersion":"v1","kind":"Node","metadata":{"name":"node-1","labels":{"role":"worker"}}}'
expect 201 "create a Node (cluster-scoped)"
is "$(jqb '.metadata.namespace // "none"')" none "... it has no namespace"
req POST /api/v1/persistentvolumes '{"apiVersion":"v1","kind":"PersistentVolume","metadata":{"name":"pv1"},"spec":{"capacity":{"storage":"1Gi"},"accessModes":["ReadWriteOnce"],"hostPath":{"path":"/tmp/pv1"}}}'
expect 201 "create a PersistentVolume"
req GET /api/v1/persistentvolumes/pv1
is "$(jqb .spec.persistentVolumeReclaimPolicy)" Retain "PV defaults: reclaim policy Retain"
req POST /apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases '{"apiVersion":"coordination.k8s.io/v1","kind":"Lease","metadata":{"name":"node-1"},"spec":{"holderIdentity":"node-1","leaseDurationSeconds":40}}'
expect 201 "create a Lease"
req PUT /apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/node-2 '{"apiVersion":"coordination.k8s.io/v1","kind":"Lease","metadata":{"name":"node-2"},"spec":{"holderIdentity":"node-2"}}'
expect 201 "PUT creates a missing Lease (as the apiserver)"
req POST /api/v1/namespaces/default/events '{"apiVersion":"v1","kind":"Event","metadata":{"name":"web.1"},"involvedObject":{"kind":"Pod","name":"web","namespace":"default","uid":"'"$uid"'"},"reason":"Scheduled","message":"assigned","type":"Normal"}'
expect 201 "create an Event"
# (the scheduler adds its own FailedScheduling event about this pod: pick ours)
req GET "/api/v1/namespaces/default/events?fieldSelector=involvedObject.name%3Dweb%2CinvolvedObject.namespace%3Ddefault%2CinvolvedObject.uid%3D$uid%2Creason%3DScheduled"
is "$(jqb '.items | length')" 1 "events listed by involvedObject (what kubectl describe asks)"

done_testing
