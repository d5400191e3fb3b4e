#!/bin/bash
# Durability: kill -9 the server while four clients create 1,000 objects;
# after a restart every acknowledged object is there, intact, and the
# revisions go on from where they were. With --sync full (the default: an
# fsync per commit) and --sync normal (the WAL reaches the kernel before a
# write is acknowledged, which is what survives kill -9).
. "$(dirname "$0")/server_lib.sh"

need_cmd sqlite3

# scenario SYNC: the whole test with --sync SYNC
scenario() {
	local sync=$1
	srv_start --sync "$sync"
	diag "--sync $sync"
	NS=/api/v1/namespaces/default
	CLIENTS=4
	PER_CLIENT=250
	rm -f "$TEST_TMP"/acks*

	# One curl per client sends its creates one after the other on one
	# keep-alive connection, printing "NAME STATUS" for each.
	for c in $(seq 1 $CLIENTS); do
		cfg=$TEST_TMP/client$c.cfg
		: >"$cfg"
		for i in $(seq 1 $PER_CLIENT); do
			name=d-$c-$i
			cat >>"$cfg" <<-EOF
	url = "$SRV_URL$NS/configmaps"
	request = "POST"
	cacert = "$SRV_CA"
	header = "Authorization: Bearer $SRV_TOKEN"
	header = "Content-Type: application/json"
	data = "{\"metadata\":{\"name\":\"$name\"},\"data\":{\"payload\":\"$name-$(printf '%064d' "$i")\"}}"
	output = "/dev/null"
	write-out = "$name %{http_code}\\n"
	next
	EOF
		done
	done
	req GET /metrics
	rev0=$(sed -n 's/^skiff_store_revision //p' <<<"$BODY")
	pids=()
	for c in $(seq 1 $CLIENTS); do
		curl -sS -K "$TEST_TMP/client$c.cfg" >"$TEST_TMP/acks$c" 2>/dev/null &
		pids+=($!)
	done
	defer "kill ${pids[*]} 2>/dev/null"
	acked() { cat "$TEST_TMP"/acks* | grep -c ' 201$'; }
	# curl prints its lines when it exits: watch the server's revision instead
	enough() {
		local r
		r=$(curl -sS --cacert "$SRV_CA" -H "Authorization: Bearer $SRV_TOKEN" "$SRV_URL/metrics" |
			sed -n 's/^skiff_store_revision //p')
		((r >= rev0 + 200))
	}
	wait_for 60 enough
	srv_kill9
	wait "${pids[@]}" 2>/dev/null
	n=$(acked)
	total=$((CLIENTS * PER_CLIENT))
	((n >= 200 && n < total)) && pass "the server died mid-way ($n of $total creates acknowledged)" ||
		fail "the server died mid-way" "$n of $total acknowledged"

	srv_launch --sync "$sync"
	req GET "$NS/configmaps?limit=0"
	expect 200 "the server restarts on the same data"
	jqb '.items[] | .metadata.name + " " + .data.payload' | sort >"$TEST_TMP/stored"
	missing=0
	while read -r name code; do
		[[ $code == 201 ]] || continue
		grep -qx "$name $name-$(printf '%064d' "${name##*-}")" "$TEST_TMP/stored" || {
			missing=$((missing + 1))
			diag "lost: $name"
		}
	done < <(cat "$TEST_TMP"/acks*)
	is "$missing" 0 "every acknowledged object is there, with its data"
	stored=$(wc -l <"$TEST_TMP/stored")
	((stored >= n && stored <= n + CLIENTS)) &&
		pass "at most one unacknowledged write per client was stored too ($stored stored)" ||
		fail "stored count" "$stored stored, $n acknowledged"
	rev=$(jqb .metadata.resourceVersion)
	req POST $NS/configmaps '{"metadata":{"name":"after"}}'
	((${BODY:+$(jqb .metadata.resourceVersion)} > rev)) && pass "revisions go on after the restart" ||
		fail "revisions go on" "$(jqb .metadata.resourceVersion) after $rev"
	req GET "$NS/configmaps?watch=1&resourceVersion=$rev&timeoutSeconds=1"
	is "$(jq -rc '.type + " " + .object.metadata.name' <<<"$BODY")" "ADDED after" \
		"a watch from the list's revision sees the new write"
	kill "$SRV_PID"
	wait "$SRV_PID" 2>/dev/null
	is "$(sqlite3 "$SRV_DIR/state.db" 'PRAGMA integrity_check')" ok "the database passes integrity_check"


}

scenario full
scenario normal

done_testing
