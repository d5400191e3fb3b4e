#!/bin/sh
# TAP: every C file is formatted as .clang-format says.
cd "$(dirname "$0")/.."
n=0
bad=0
for f in $(git ls-files '*.c' '*.h' 2>/dev/null || find . -name '*.[ch]' -not -path './build*'); do
	n=$((n + 1))
	if clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
		echo "ok $n - $f is formatted"
	else
		echo "not ok $n - $f is not formatted (run make format)"
		bad=1
	fi
done
echo "1..$n"
exit $bad
