#!/bin/sh
# Private MariaDB for tests and the demo, in a scratch directory.
#   mariadb.sh start DIR    create (first time) and start; prints nothing
#   mariadb.sh stop DIR     stop it (by its pid file)
#   mariadb.sh sql DIR      run the mariadb client as root on it (stdin)
# The socket is DIR/sock; networking is off. Works as root (--user=root)
# or as an ordinary user.
set -eu
cmd=$1
dir=$(realpath -m "$2")
sock="$dir/sock"
pidf="$dir/mariadbd.pid"
userarg=""
[ "$(id -u)" = 0 ] && userarg="--user=root"

find_bin() {
	for b in "$@"; do
		if command -v "$b" >/dev/null 2>&1; then echo "$b"; return 0; fi
		for p in /usr/sbin /usr/bin /usr/libexec; do
			[ -x "$p/$b" ] && { echo "$p/$b"; return 0; }
		done
	done
	echo "mariadb.sh: none of $* found (apt-get install mariadb-server)" >&2
	exit 1
}

case "$cmd" in
start)
	mkdir -p "$dir"
	if [ -S "$sock" ] && [ -f "$pidf" ] && kill -0 "$(cat "$pidf")" 2>/dev/null; then
		exit 0
	fi
	mkdir -p "$dir/tmp"
	if [ ! -d "$dir/data/mysql" ]; then
		install_db=$(find_bin mariadb-install-db mysql_install_db)
		# own tmpdir: bootstraps running side by side must not share
		# temporary table files in /tmp; one retry for a flaky start
		for try in 1 2; do
			rm -rf "$dir/data"
			if "$install_db" --no-defaults --datadir="$dir/data" \
			    $userarg --tmpdir="$dir/tmp" \
			    --auth-root-authentication-method=socket \
			    --skip-test-db >"$dir/install.log" 2>&1; then
				break
			fi
			if [ $try = 2 ]; then
				cat "$dir/install.log" >&2
				exit 1
			fi
		done
	fi
	mysqld=$(find_bin mariadbd mysqld)
	"$mysqld" --no-defaults --datadir="$dir/data" --socket="$sock" \
	    --pid-file="$pidf" --skip-networking $userarg --tmpdir="$dir/tmp" \
	    --innodb-buffer-pool-size=64M --innodb-log-file-size=16M \
	    --innodb-flush-log-at-trx-commit=2 --skip-log-bin \
	    --log-error="$dir/error.log" >/dev/null 2>&1 &
	i=0
	while [ $i -lt 300 ]; do
		if [ -S "$sock" ] && mariadb --no-defaults -S "$sock" -uroot \
		    -e 'select 1' >/dev/null 2>&1; then
			exit 0
		fi
		sleep 0.1
		i=$((i + 1))
	done
	echo "mariadb.sh: server did not start; see $dir/error.log" >&2
	tail -20 "$dir/error.log" >&2 || true
	exit 1
	;;
stop)
	if [ -f "$pidf" ]; then
		pid=$(cat "$pidf")
		kill "$pid" 2>/dev/null || true
		i=0
		while kill -0 "$pid" 2>/dev/null && [ $i -lt 300 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		kill -9 "$pid" 2>/dev/null || true
	fi
	;;
sql)
	exec mariadb --no-defaults -S "$sock" -uroot
	;;
*)
	echo "usage: mariadb.sh start|stop|sql DIR" >&2
	exit 2
	;;
esac
