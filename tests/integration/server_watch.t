#!/bin/bash
# Lists and watches: label and field selectors, limit/continue with a
# consistent snapshot, resourceVersion rules, watches from a revision
# (every later change, in order), selector transitions, synthetic ADDED,
# bookmarks, timeouts, Table events, and 410 Gone after compaction.
. "$(dirname "$0")/server_lib.sh"

srv_start --bookmark-interval 1
NS=/api/v1/namespaces/default

# ---- label selectors
req POST $NS/configmaps '{"metadata":{"name":"a","labels":{"app":"web","tier":"front"}}}'
req POST $NS/configmaps '{"metadata":{"name":"b","labels":{"app":"web","tier":"back"}}}'
req POST $NS/configmaps '{"metadata":{"name":"c","labels":{"app":"db"}}}'
req POST $NS/configmaps '{"metadata":{"name":"d"}}'
names() {
	req GET "$NS/configmaps?labelSelector=$(jq -rn --arg s "$1" '$s|@uri')"
	jqb '[.items[].metadata.name] | join(",")'
}
is "$(names 'app=web')" a,b "label selector app=web"
is "$(names 'app==web')" a,b "label selector app==web"
is "$(names 'app!=web')" c,d "label selector app!=web (includes objects without the label)"
is "$(names 'tier in (front,back)')" a,b "label selector tier in (front,back)"
is "$(names 'app notin (web)')" c,d "label selector app notin (web)"
is "$(names 'tier')" a,b "label selector tier (exists)"
is "$(names '!tier')" c,d "label selector !tier"
is "$(names 'app=web,tier=back')" b "label selector app=web,tier=back"
req GET "$NS/configmaps?labelSelector=app%3D%3D%3Dweb"
expect_status 400 BadRequest "an invalid label selector: 400"
req GET "$NS/configmaps?labelSelector=tier+in+(front"
expect_status 400 BadRequest "an unclosed set: 400"

# ---- field selectors
fnames() {
	req GET "$1?fieldSelector=$(jq -rn --arg s "$2" '$s|@uri')"
	jqb '[.items[].metadata.name] | join(",")'
}
is "$(fnames $NS/configmaps metadata.name=c)" c "field selector metadata.name=c"
is "$(fnames $NS/configmaps metadata.name!=c)" a,b,d "field selector metadata.name!=c"
is "$(fnames /api/v1/configmaps metadata.namespace=default)" a,b,c,d \
	"field selector metadata.namespace=default"
req POST $NS/pods "$(pod_json p1 '{}' '{"nodeName":"n1"}')"
req POST $NS/pods "$(pod_json p2 '{}' '{"nodeName":"n2"}')"
req POST $NS/pods "$(pod_json p3)"
req PATCH $NS/pods/p2/status '{"status":{"phase":"Running"}}' application/merge-patch+json
is "$(fnames $NS/pods spec.nodeName=n1)" p1 "field selector spec.nodeName=n1"
is "$(fnames /api/v1/pods spec.nodeName=)" p3 "field selector spec.nodeName= (unscheduled)"
is "$(fnames $NS/pods status.phase=Running)" p2 "field selector status.phase=Running"
is "$(fnames $NS/pods status.phase!=Running,spec.nodeName!=n1)" p3 "two field requirements"
req GET "$NS/pods?fieldSelector=spec.image%3Dx"
expect_status 400 BadRequest "an unsupported field: 400"
like "$(jqb .message)" "field label not supported: spec.image" "... naming the field"

# ---- limit and continue: one consistent snapshot
for i in 1 2 3 4 5 6 7; do req POST $NS/secrets "{\"metadata\":{\"name\":\"s$i\"},\"stringData\":{\"k\":\"v\"}}"; done
req GET "$NS/secrets?limit=3"
is "$(jqb '[.items[].metadata.name] | join(",")')" s1,s2,s3 "limit=3: the first page"
cont=$(jqb .metadata.continue)
rv=$(jqb .metadata.resourceVersion)
ok "... with a continue token" test -n "$cont" -a "$cont" != null
req DELETE $NS/secrets/s5
req POST $NS/secrets '{"metadata":{"name":"s4a"}}'
req GET "$NS/secrets?limit=3&continue=$(jq -rn --arg s "$cont" '$s|@uri')"
is "$(jqb '[.items[].metadata.name] | join(",")')" s4,s5,s6 \
	"the next page is from the same snapshot (s5 deleted since: still there, s4a: not yet)"
is "$(jqb .metadata.resourceVersion)" "$rv" "... at the first page's resourceVersion"
cont=$(jqb .metadata.continue)
req GET "$NS/secrets?limit=3&continue=$(jq -rn --arg s "$cont" '$s|@uri')"
is "$(jqb '[.items[].metadata.name] | join(",")')" s7 "the last page"
is "$(jqb '.metadata.continue // "none"')" none "... has no continue token"
req GET "$NS/secrets?continue=garbage"
expect_status 400 BadRequest "a bad continue token: 400"

# ---- resourceVersion on lists
req GET "$NS/secrets?resourceVersion=0"
expect 200 "resourceVersion=0"
req GET "$NS/secrets?resourceVersion=99999999"
is "$CODE $(jqb .reason)" "504 Timeout" "a resourceVersion from the future: 504 Timeout"
req GET "$NS/secrets?resourceVersion=$rv&resourceVersionMatch=Exact"
is "$(jqb '[.items[].metadata.name] | join(",")')" s1,s2,s3,s4,s5,s6,s7 \
	"resourceVersionMatch=Exact lists the past"

# ---- watch from a revision: every later change, in order
req GET $NS/configmaps
from=$(jqb .metadata.resourceVersion)
req POST $NS/configmaps '{"metadata":{"name":"w1"}}'
req PATCH $NS/configmaps/w1 '{"data":{"x":"1"}}' application/merge-patch+json
req POST $NS/configmaps '{"metadata":{"name":"w2"}}'
req DELETE $NS/configmaps/w1
req PATCH $NS/configmaps/w2 '{"data":{"y":"2"}}' application/merge-patch+json
req GET "$NS/configmaps?watch=1&resourceVersion=$from&timeoutSeconds=1"
expect 200 "a watch from a revision"
events=$(jq -rc '.type + " " + .object.metadata.name' <<<"$BODY" | paste -sd,)
is "$events" "ADDED w1,MODIFIED w1,ADDED w2,DELETED w1,MODIFIED w2" \
	"it sees every later change, in order, with its type"
revs=$(jq -r '.object.metadata.resourceVersion' <<<"$BODY" | paste -sd' ')
sorted=$(tr ' ' '\n' <<<"$revs" | sort -n | paste -sd' ')
is "$revs" "$sorted" "... their resourceVersions increase"
first=$(cut -d' ' -f1 <<<"$revs")
((first > from)) && pass "... and all are after the revision watched from" ||
	fail "... after the revision" "$first <= $from"
is "$(jq -r 'select(.type=="DELETED") | .object.kind + " " + .object.apiVersion' <<<"$BODY")" \
	"ConfigMap v1" "events carry kind and apiVersion"
req GET "/api/v1/watch/namespaces/default/configmaps/w2?resourceVersion=$from&timeoutSeconds=1"
is "$(jq -rc '.type' <<<"$BODY" | paste -sd,)" ADDED,MODIFIED "the legacy /watch/ path on one object"
req GET "$NS/configmaps?watch=true&resourceVersion=$from&timeoutSeconds=1&fieldSelector=metadata.name%3Dw2"
is "$(jq -rc '.type' <<<"$BODY" | paste -sd,)" ADDED,MODIFIED "a watch with metadata.name="

# ---- initial events
req GET "$NS/configmaps?watch=1&timeoutSeconds=1&labelSelector=app%3Dweb"
is "$(jq -rc '.type + " " + .object.metadata.name' <<<"$BODY" | paste -sd,)" "ADDED a,ADDED b" \
	"a watch without resourceVersion starts with ADDED for what exists"
req GET "$NS/configmaps?watch=1&resourceVersion=0&timeoutSeconds=1&labelSelector=app%3Dweb"
is "$(jq -rc '.type' <<<"$BODY" | paste -sd,)" "ADDED,ADDED" "the same for resourceVersion=0"
req GET "$NS/configmaps?watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&timeoutSeconds=1&labelSelector=app%3Dweb"
is "$(jq -rc '.type' <<<"$BODY" | head -3 | paste -sd,)" "ADDED,ADDED,BOOKMARK" \
	"sendInitialEvents: ADDED..., then a BOOKMARK"
is "$(jq -r 'select(.type=="BOOKMARK") | .object.metadata.annotations["k8s.io/initial-events-end"]' <<<"$BODY" | head -1)" \
	true "... marked k8s.io/initial-events-end"

# ---- live watches: selector transitions, bookmarks, timeouts
live=$TEST_TMP/live
curl -sS -N --cacert "$SRV_CA" -H "Authorization: Bearer $SRV_TOKEN" \
	"$SRV_URL$NS/configmaps?watch=1&resourceVersion=$(count $NS/configmaps >/dev/null; jqb .metadata.resourceVersion)&labelSelector=app%3Dweb&timeoutSeconds=4&allowWatchBookmarks=true" \
	>"$live" 2>&1 &
wpid=$!
defer "kill $wpid 2>/dev/null"
sleep 0.3
t0=$SECONDS
req PATCH $NS/configmaps/c '{"metadata":{"labels":{"app":"web"}}}' application/merge-patch+json
req PATCH $NS/configmaps/a '{"metadata":{"labels":{"app":"api"}}}' application/merge-patch+json
req PATCH $NS/configmaps/d '{"data":{"ignored":"yes"}}' application/merge-patch+json
wait $wpid
elapsed=$((SECONDS - t0))
is "$(jq -rc 'select(.type!="BOOKMARK") | .type + " " + .object.metadata.name' <"$live" | paste -sd,)" \
	"ADDED c,DELETED a" "an object that starts matching is ADDED, one that stops is DELETED"
like "$(jq -rc '.type' <"$live" | sort -u | paste -sd,)" "BOOKMARK" \
	"allowWatchBookmarks: bookmarks arrive (--bookmark-interval 1)"
is "$(jq -r 'select(.type=="BOOKMARK") | .object.kind' <"$live" | head -1)" ConfigMap \
	"a bookmark names the kind"
((elapsed >= 2 && elapsed <= 7)) && pass "timeoutSeconds=4 ends the watch (after ${elapsed}s)" ||
	fail "timeoutSeconds ends the watch" "took ${elapsed}s"

# ---- Table watches (kubectl get -w)
REQ_HEADERS=("Accept: application/json;as=Table;v=v1;g=meta.k8s.io,application/json")
req GET "$NS/configmaps?watch=1&resourceVersion=$from&timeoutSeconds=1"
is "$(jq -r '.object.kind' <<<"$BODY" | sort -u)" Table "Table watch events carry Tables"
is "$(jq -r '.object.rows[0].cells[0]' <<<"$BODY" | head -1)" w1 "... one row each"
req GET "$NS/configmaps?limit=500"
is "$(jqb '.kind + " " + .columnDefinitions[0].name + " " + .columnDefinitions[0].format')" \
	"Table Name name" "a Table LIST for kubectl get"
like "$(jqb .metadata.resourceVersion)" '^[0-9]+$' "... with the resourceVersion kubectl watches from"
is "$(jqb '.rows[0].object.kind')" PartialObjectMetadata "... rows carry PartialObjectMetadata"
REQ_HEADERS=()

# ---- many watches at once, and the server keeps serving
pids=()
for i in $(seq 1 50); do
	curl -sS -N --cacert "$SRV_CA" -H "Authorization: Bearer $SRV_TOKEN" \
		"$SRV_URL$NS/configmaps?watch=1&resourceVersion=$(jqb .metadata.resourceVersion)&timeoutSeconds=5&fieldSelector=metadata.name%3Dmany" \
		>"$TEST_TMP/many.$i" 2>&1 &
	pids+=($!)
done
defer "kill ${pids[*]} 2>/dev/null"
wait_for 10 bash -c "curl -sS --cacert $SRV_CA -H 'Authorization: Bearer $SRV_TOKEN' $SRV_URL/metrics | grep -q 'skiff_watches [5-9][0-9]'"
req GET $NS/configmaps/a
expect 200 "a GET is served while 50 watches are open"
req POST $NS/configmaps '{"metadata":{"name":"many"}}'
wait "${pids[@]}"
got=0
for i in $(seq 1 50); do grep -q '"ADDED"' "$TEST_TMP/many.$i" && got=$((got + 1)); done
is "$got" 50 "each of the 50 watches got the event"

# ---- compaction: 410 Gone
kill "$SRV_PID"
wait "$SRV_PID" 2>/dev/null
srv_start --compact-interval 1
req POST $NS/configmaps '{"metadata":{"name":"old"}}'
old=$(jqb .metadata.resourceVersion)
for i in 1 2 3 4 5; do req POST $NS/configmaps "{\"metadata\":{\"name\":\"p$i\"}}"; done
req GET "$NS/configmaps?limit=2"
cont=$(jqb .metadata.continue)
listrv=$(jqb .metadata.resourceVersion)
# compaction keeps one interval of history: it reaches listrv once a
# later write is an interval old
compacted() {
	req PATCH $NS/configmaps/old "{\"data\":{\"a\":\"$RANDOM\"}}" application/merge-patch+json
	req GET /metrics
	local c
	c=$(sed -n 's/^skiff_store_compacted_revision //p' <<<"$BODY")
	((c > listrv))
}
ok "the store compacts (--compact-interval 1)" wait_for 15 compacted
req GET "$NS/configmaps?watch=1&resourceVersion=$old&timeoutSeconds=1"
expect_status 410 Expired "a watch from a compacted revision: 410 Expired"
like "$(jqb .message)" "too old resource version: $old \\([0-9]+\\)" "... too old resource version: N (M)"
req GET "$NS/configmaps?limit=2&continue=$(jq -rn --arg s "$cont" '$s|@uri')"
expect_status 410 Gone "a continue token from before the compaction: 410"
req GET "$NS/configmaps?resourceVersion=$old&resourceVersionMatch=Exact"
expect 410 "an exact list at a compacted revision: 410"
req GET "$NS/configmaps?watch=1&resourceVersion=$(count $NS/configmaps >/dev/null; jqb .metadata.resourceVersion)&timeoutSeconds=1"
expect 200 "a watch from the current revision still works"

done_testing
