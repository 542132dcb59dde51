#!/bin/bash
# `make demo`: a private MariaDB in a scratch directory, a demo domain and
# user, facteur on high loopback ports with a self-signed certificate.
#   demo.sh start BIN     (prints how to send and read a mail)
#   demo.sh stop
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
demo=${FACTEUR_DEMO_DIR:-$top/demo}
cmd=$1
case "$cmd" in
stop)
	if [ -f "$demo/facteur.pid" ]; then
		kill "$(cat "$demo/facteur.pid")" 2>/dev/null || true
		rm -f "$demo/facteur.pid"
	fi
	"$top/tests/lib/mariadb.sh" stop "$demo/mariadb"
	echo "demo stopped (data kept in $demo; rm -rf it to start afresh)"
	exit 0
	;;
start) ;;
*) echo "usage: demo.sh start BIN | stop" >&2; exit 2 ;;
esac
bin=$(realpath "$2")
mkdir -p "$demo"
chmod 755 "$demo"
if [ -f "$demo/facteur.pid" ] && kill -0 "$(cat "$demo/facteur.pid")" 2>/dev/null; then
	kill "$(cat "$demo/facteur.pid")"; sleep 1
fi
"$top/tests/lib/mariadb.sh" start "$demo/mariadb"
"$top/tests/lib/mariadb.sh" sql "$demo/mariadb" <<SQL
CREATE DATABASE IF NOT EXISTS mailserver CHARACTER SET utf8mb4;
CREATE USER IF NOT EXISTS 'facteur'@'localhost' IDENTIFIED BY 'demo-db-pw';
GRANT ALL ON mailserver.* TO 'facteur'@'localhost';
FLUSH PRIVILEGES;
SQL
echo demo-db-pw > "$demo/db.password"
chmod 600 "$demo/db.password"
if [ ! -f "$demo/cert.pem" ]; then
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$demo/key.pem" \
	    -out "$demo/cert.pem" -days 365 -subj /CN=localhost \
	    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" 2>/dev/null
	chmod 600 "$demo/key.pem"
fi
user=$(id -un)
if [ "$(id -u)" = 0 ]; then
	getent passwd facteurtest >/dev/null || useradd --system --no-create-home \
	    --home-dir /nonexistent --shell /usr/sbin/nologin facteurtest
	user=facteurtest
fi
cat > "$demo/facteur.conf" <<CONF
# demo configuration written by make demo
hostname            = localhost
smtp_listen         = 127.0.0.1:2525
smtps_listen        = 127.0.0.1:4465
submission_listen   = 127.0.0.1:5587
imaps_listen        = 127.0.0.1:9993
imap_listen         = 127.0.0.1:1143
pop3s_listen        = 127.0.0.1:9995
pop3_listen         = 127.0.0.1:1110
admin_listen        = 127.0.0.1:8443
tls_cert            = $demo/cert.pem
tls_key             = $demo/key.pem
db_socket           = $demo/mariadb/sock
db_name             = mailserver
db_user             = facteur
db_password_file    = $demo/db.password
mail_root           = $demo/vmail
queue_dir           = $demo/queue
web_root            = $top/web
run_user            = $user
CONF
f="$bin"
c="$demo/facteur.conf"
"$f" db init -c "$c"
"$f" domain list -c "$c" | cut -f1 | grep -qx example.org || "$f" domain add -c "$c" example.org
if ! "$f" user list -c "$c" | cut -f1 | grep -qx demo@example.org; then
	echo demo-password | "$f" user add -c "$c" demo@example.org
fi
if ! "$f" admin list -c "$c" | cut -f1 | grep -qx admin; then
	echo demo-admin-password | "$f" admin add -c "$c" admin
fi
"$f" serve -c "$c" -f >"$demo/facteur.log" 2>&1 &
echo $! > "$demo/facteur.pid"
i=0
while ! (exec 3<>/dev/tcp/127.0.0.1/2525) 2>/dev/null; do
	i=$((i + 1))
	if [ $i -gt 100 ]; then
		echo "facteur did not start; log:" >&2; cat "$demo/facteur.log" >&2; exit 1
	fi
	sleep 0.1
done
cat <<MSG

facteur demo is running (pid $(cat "$demo/facteur.pid"), log $demo/facteur.log)
  user demo@example.org, password demo-password
  SMTP 127.0.0.1:2525  submission 5587 (STARTTLS) / 4465 (TLS)
  IMAPS 127.0.0.1:9993  IMAP 1143  POP3S 9995  POP3 1110

Send a mail to the demo user:
  swaks --server 127.0.0.1:2525 --to demo@example.org --from you@demo.invalid
  (or: printf 'Subject: hi\r\n\r\nhello\r\n' | curl -s smtp://127.0.0.1:2525 \\
         --mail-from you@demo.invalid --mail-rcpt demo@example.org -T -)
It lands in:
  $demo/vmail/example.org/demo/Maildir/new/
Read it over IMAPS:
  curl -k 'imaps://127.0.0.1:9993/INBOX;UID=1' -u demo@example.org:demo-password
Read it over POP3S:
  curl -k 'pop3s://127.0.0.1:9995/1' -u demo@example.org:demo-password
Admin page (accept the self-signed certificate):
  https://127.0.0.1:8443/   admin / demo-admin-password
Stop the demo:  make demo-stop
MSG
