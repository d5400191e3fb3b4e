#!/bin/bash
# make fuzz: build the libFuzzer targets (clang, ASan+UBSan) into
# build-fuzz/ and run each for a fixed time (FUZZ_TIME seconds, default 30)
# from its seed corpus in tests/fuzz/corpus/<target>/. New inputs go to
# build-fuzz/corpus/<target>/, crashes to build-fuzz/artifacts/. Prints TAP;
# exits non-zero when a target crashes, leaks, times out or cannot run.
#   tests/fuzz/run.sh [TARGET...]      (TARGET: yaml json selector quantity patch protobuf dns)
set -u
cd "$(dirname "$0")/../.."
T=${FUZZ_TIME:-30}
B=build-fuzz
targets=("$@")
if ((${#targets[@]} == 0)); then
	for f in tests/fuzz/fuzz_*.c; do
		f=${f##*/fuzz_}
		targets+=("${f%.c}")
	done
fi

command -v clang >/dev/null || { echo "not ok - clang is missing: run 'sudo make deps'"; exit 1; }
make --no-print-directory fuzz-build >&2 || { echo "not ok - building the fuzz targets failed"; exit 1; }

n=0
bad=0
for t in "${targets[@]}"; do
	n=$((n + 1))
	bin=$B/fuzz_$t
	seeds=tests/fuzz/corpus/$t
	work=$B/corpus/$t
	mkdir -p "$work" "$B/artifacts"
	dict=()
	[[ -f tests/fuzz/dict/$t.dict ]] && dict=(-dict="tests/fuzz/dict/$t.dict")
	log=$B/fuzz_$t.log
	if "$bin" -max_total_time="$T" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
		-print_final_stats=1 -artifact_prefix="$B/artifacts/$t-" "${dict[@]}" \
		"$work" "$seeds" >"$log" 2>&1; then
		execs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$')
		echo "ok $n - fuzz_$t: ${execs:-?} inputs in ${T}s, no crash"
	else
		bad=1
		echo "not ok $n - fuzz_$t crashed or failed (see $log and $B/artifacts/)"
		grep -E 'ERROR|SUMMARY|==[0-9]+==' "$log" | head -5 | sed 's/^/#   /'
	fi
done
echo "1..$n"
exit $bad
