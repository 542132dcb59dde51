#!/bin/sh
# The `make check` driver: unit tests (Check), then the integration suite
# against a private MariaDB and the real binary. Ends with the line
# "N passed, N failed". Usage: run-all.sh BUILD_DIR [--integration-only]
set -u
build=$1
only=${2:-}
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
passed=0
failed=0
skipped=0

if [ "$only" != "--integration-only" ]; then
	out=$(tests/lib/run-unit.sh "$build" "$build"/tests/check_* 2>&1)
	printf '%s\n' "$out" | grep -v '^unit: [0-9]* passed'
	line=$(printf '%s\n' "$out" | grep -E '^unit: [0-9]+ passed' | tail -1)
	p=$(echo "$line" | sed -E 's/unit: ([0-9]+) passed.*/\1/')
	f=$(echo "$line" | sed -E 's/.*, ([0-9]+) failed.*/\1/')
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-1}))
fi

scratch=${FACTEUR_TEST_DIR:-/tmp/facteur-it.$$}
rm -rf "$scratch"
mkdir -p "$scratch"
chmod 755 "$scratch"
cleanup() {
	tests/lib/mariadb.sh stop "$scratch/mariadb" >/dev/null 2>&1 || true
	if [ -z "${FACTEUR_KEEP_TEST_DIR:-}" ]; then rm -rf "$scratch"; fi
}
trap cleanup EXIT INT TERM
if tests/lib/mariadb.sh start "$scratch/mariadb"; then
	export FACTEUR_TEST_DIR="$scratch"
	export FACTEUR_BIN="$top/$build/facteur"
	export FACTEUR_BUILD="$top/$build"
	out="$scratch/integration.out"
	# Debian's python3 sees the python3-* packages (dnslib, selenium)
	py=python3
	[ -x /usr/bin/python3 ] && py=/usr/bin/python3
	"$py" tests/integration/runner.py 2>&1 | tee "$out"
	line=$(grep -E '^integration: [0-9]+ passed' "$out" | tail -1)
	if [ -n "$line" ]; then
		p=$(echo "$line" | sed -E 's/integration: ([0-9]+) passed.*/\1/')
		f=$(echo "$line" | sed -E 's/.*, ([0-9]+) failed.*/\1/')
		s=$(echo "$line" | sed -E 's/.*, ([0-9]+) skipped.*/\1/')
		passed=$((passed + p))
		failed=$((failed + f))
		skipped=$((skipped + s))
	else
		echo "integration: runner produced no summary"
		failed=$((failed + 1))
	fi
else
	echo "integration: MariaDB did not start"
	failed=$((failed + 1))
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
