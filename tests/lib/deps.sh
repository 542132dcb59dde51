#!/bin/sh
# Install the build and test dependencies that are missing (Debian 12).
# Idempotent and quiet when everything is there. Needs root for apt-get;
# as another user it only reports what is missing.
set -eu
pkgs="build-essential pkg-config libssl-dev libmariadb-dev libargon2-dev
zlib1g-dev libcrypt-dev check mariadb-server mariadb-client openssl
python3 curl swaks isync fetchmail whois argon2 python3-dnslib python3-dkim opendkim-tools publicsuffix
dovecot-imapd dovecot-pop3d dovecot-lmtpd clang procps iproute2
chromium chromium-driver python3-selenium
debhelper dpkg-dev fakeroot lintian debootstrap systemd man-db sslscan
postfix"
missing=""
for p in $pkgs; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
	    grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
if [ -n "$missing" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "deps: missing packages:$missing (run as root or apt-get install them)" >&2
		exit 1
	fi
	echo "deps: installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	# keep package maintainer scripts from starting daemons here
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
		chmod +x /usr/sbin/policy-rc.d
		trap 'rm -f /usr/sbin/policy-rc.d' EXIT
	fi
	# postfix is a test peer only: no configuration, never started here
	echo "postfix postfix/main_mailer_type select No configuration" |
	    debconf-set-selections 2>/dev/null || true
	apt-get update -q >/dev/null
	apt-get install -y -q --no-install-recommends $missing >/tmp/facteur-deps.log 2>&1 || {
		tail -30 /tmp/facteur-deps.log >&2; exit 1; }
fi
# the unprivileged account the test servers drop to
if [ "$(id -u)" = 0 ] && ! getent passwd facteurtest >/dev/null; then
	useradd --system --no-create-home --home-dir /nonexistent \
	    --shell /usr/sbin/nologin facteurtest
fi
exit 0
