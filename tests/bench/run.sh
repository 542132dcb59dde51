#!/bin/sh
# The `make bench` driver: facteur against Postfix + Dovecot on this
# machine. Usage: tests/bench/run.sh BUILD_DIR/facteur
# BENCH_QUICK=1 for a fast smoke run; BENCH_ONLY=smtp,login,... to pick
# workloads. Prints the table and writes build/bench/results.md.
# Needs root (Postfix and Dovecot start as root and drop privileges).
set -eu
bin=$(realpath "${1:-build/facteur}")
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
out="$top/build/bench"
mkdir -p "$out"

if [ "$(id -u)" != 0 ]; then
	echo "bench: must run as root (Postfix and Dovecot are started by" \
	    "hand on private directories)" >&2
	exit 1
fi

# The reference: Debian's Postfix and Dovecot, never started by init.
pkgs="postfix postfix-mysql dovecot-imapd dovecot-lmtpd dovecot-mysql
dovecot-pop3d valgrind mariadb-server mariadb-client openssl"
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
	    grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "bench: installing$missing"
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
		chmod +x /usr/sbin/policy-rc.d
	fi
	echo "postfix postfix/main_mailer_type select No configuration" |
	    debconf-set-selections
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q >/dev/null
	apt-get install -y -q $missing >"$out/apt.log" 2>&1 || {
		tail -30 "$out/apt.log" >&2; exit 1; }
fi
tests/lib/deps.sh

cc -O2 -Wall -Wextra -pthread -o "$out/fsyncrate" tests/bench/fsyncrate.c

ulimit -n 65536 2>/dev/null || ulimit -n 8192 2>/dev/null || true
# Dovecot needs one inotify instance per IDLE session to hibernate it
# (and both servers run as the same user): the default 128 per user is
# too few for 1,000 connections. Raised for the run, then restored.
ino=/proc/sys/fs/inotify/max_user_instances
old_ino=$(cat "$ino" 2>/dev/null || echo "")
if [ -n "$old_ino" ] && [ "$old_ino" -lt 8192 ]; then
	echo 8192 > "$ino" 2>/dev/null || echo "bench: cannot raise $ino" >&2
fi
py=python3
[ -x /usr/bin/python3 ] && py=/usr/bin/python3
export BENCH_FSYNCRATE="$out/fsyncrate"
rc=0
"$py" tests/bench/bench.py "$bin" || rc=$?
if [ -n "$old_ino" ] && [ "$old_ino" -lt 8192 ]; then
	echo "$old_ino" > "$ino" 2>/dev/null || true
fi
exit $rc
