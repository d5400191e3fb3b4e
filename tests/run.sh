#!/bin/bash
# Run skiff's tests and print one summary line last: "N passed, N failed".
#   tests/run.sh [--unit] [--integration] [--vm] [--format] [--all] [FILE...]
# Every test program speaks TAP. A program that dies, exits non-zero
# without a failing line, or prints fewer results than its plan counts as a
# failure, so a crash is never read as a pass.
set -u
cd "$(dirname "$0")/.."
BUILD=${SKIFF_BUILD:-build}
export SKIFF_BUILD=$BUILD
export SKIFF="$PWD/$BUILD/skiff"
export SKIFF_TOP="$PWD"

passed=0
failed=0
failed_names=()

# run_tap NAME CMD...: run one TAP program, echo its output, count results.
run_tap() {
	local name=$1 out rc ok nok plan
	shift
	echo "# --- $name"
	out=$(mktemp)
	"$@" 2>&1 | tee "$out"
	rc=${PIPESTATUS[0]}
	ok=$(grep -cE '^ok [0-9]+' "$out")
	nok=$(grep -cE '^not ok [0-9]+' "$out")
	plan=$(grep -oE '^1\.\.[0-9]+' "$out" | tail -1 | cut -d. -f3)
	rm -f "$out"
	passed=$((passed + ok))
	failed=$((failed + nok))
	((nok > 0)) && failed_names+=("$name")
	if ((rc != 0 && nok == 0)); then
		echo "not ok - $name exited with status $rc"
		failed=$((failed + 1))
		failed_names+=("$name")
	elif [[ -n $plan ]] && ((plan != ok + nok)); then
		echo "not ok - $name planned $plan tests but ran $((ok + nok))"
		failed=$((failed + 1))
		failed_names+=("$name")
	elif [[ -z $plan ]]; then
		echo "not ok - $name printed no plan"
		failed=$((failed + 1))
		failed_names+=("$name")
	fi
}

run_unit() {
	local t
	for t in "$BUILD"/tests/test_*; do
		[[ -x $t ]] && run_tap "unit/${t##*/}" "$t"
	done
}

run_integration() {
	local t
	for t in tests/integration/*.t; do
		[[ -x $t ]] && run_tap "integration/${t##*/}" "$t"
	done
}

run_vm() {
	run_tap "vm (cgroup v2 guest)" tests/vm/run.sh
}

run_format() {
	run_tap "format" tests/format-check.sh
}

want_unit=0 want_int=0 want_vm=0 want_fmt=0
files=()
(($# == 0)) && set -- --all
for a in "$@"; do
	case $a in
	--unit) want_unit=1 ;;
	--integration) want_int=1 ;;
	--vm) want_vm=1 ;;
	--format) want_fmt=1 ;;
	--all) want_unit=1 want_int=1 want_vm=1 want_fmt=1 ;;
	*) files+=("$a") ;;
	esac
done

((want_unit)) && run_unit
((want_int)) && run_integration
((want_vm)) && run_vm
((want_fmt)) && run_format
for f in "${files[@]}"; do
	run_tap "$f" "$f"
done

if ((${#failed_names[@]})); then
	echo "# failed: ${failed_names[*]}"
fi
echo "$passed passed, $failed failed"
((failed == 0))
