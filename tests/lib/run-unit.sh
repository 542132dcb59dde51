#!/bin/sh
# Run Check unit test binaries; print each suite's summary and a total.
# Usage: run-unit.sh BUILD_DIR BIN...   Exit 1 if any test failed.
set -u
shift
passed=0
failed=0
for b in "$@"; do
	out=$(CK_DEFAULT_TIMEOUT=60 "$b" 2>&1)
	line=$(printf '%s\n' "$out" | grep -E '^[0-9]+%: Checks: ' | tail -1)
	if [ -z "$line" ]; then
		printf '%s\n' "$out" | tail -20
		echo "unit: $(basename "$b"): no Check summary (crashed?)"
		failed=$((failed + 1))
		continue
	fi
	n=$(echo "$line" | sed -E 's/.*Checks: ([0-9]+).*/\1/')
	f=$(echo "$line" | sed -E 's/.*Failures: ([0-9]+).*/\1/')
	e=$(echo "$line" | sed -E 's/.*Errors: ([0-9]+).*/\1/')
	bad=$((f + e))
	if [ "$bad" -gt 0 ]; then
		printf '%s\n' "$out" | grep -vE '^[0-9]+%: Checks' | grep -E ':[EF]:' | head -40
	fi
	echo "unit: $(basename "$b"): $line"
	passed=$((passed + n - bad))
	failed=$((failed + bad))
done
echo "unit: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
