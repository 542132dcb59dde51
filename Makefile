# facteur — one binary, MTA plus MDA.
#
#   make            build ./facteur (into build/ or build-san/ with SANITIZE=1)
#   make check      install missing deps, run unit + integration tests
#   make unit       unit tests only (Check)
#   make demo       private MariaDB + facteur on high loopback ports
#   make fuzz       libFuzzer targets (FUZZ_SECONDS=N each)
#   make bench      benchmarks against Postfix + Dovecot
#
# Source files are discovered: every src/<module>/*.c goes into libfacteur.a,
# every tests/unit/check_<x>.c becomes a Check test binary.

CC       ?= cc
SANITIZE ?=
BUILD_DIR ?=
VERSION  := $(shell cat VERSION 2>/dev/null || echo 0.1.0)

PKGS     := libmariadb openssl libargon2 zlib libcrypt
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null)

WARN     := -Wall -Wextra -Wshadow -Wpointer-arith -Wstrict-prototypes \
	-Wmissing-prototypes -Wformat=2 -Wno-format-nonliteral -Wvla
CFLAGS   ?= -O2 -g
# CFLAGS/LDFLAGS are the user's (dpkg-buildflags passes its own on the
# command line); what the build needs goes into ALL_* on top of them.
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE -pthread $(WARN) -Isrc $(PKG_CFLAGS) \
	-DFACTEUR_VERSION=\"$(VERSION)\" -fno-strict-aliasing $(SAN_CFLAGS) \
	$(CFLAGS)
ALL_LDFLAGS = $(SAN_LDFLAGS) $(LDFLAGS)
LDLIBS   += $(PKG_LIBS) -pthread

ifeq ($(SANITIZE),1)
BUILD    := $(or $(BUILD_DIR),build-san)
SAN_CFLAGS  := -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined -O1
SAN_LDFLAGS := -fsanitize=address,undefined
else
BUILD    := $(or $(BUILD_DIR),build)
endif

SRCS     := $(filter-out src/main.c,$(wildcard src/*/*.c))
OBJS     := $(SRCS:src/%.c=$(BUILD)/obj/%.o)
LIB      := $(BUILD)/libfacteur.a
BIN      := $(BUILD)/facteur
UNIT_SRCS := $(wildcard tests/unit/check_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all check unit unit-bins integration demo demo-stop fuzz bench clean \
	deps install deb valgrind

all: $(BIN) facteur

facteur: $(BIN)
	ln -sf $(BIN) facteur

$(BUILD)/obj/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(LIB): $(OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $(OBJS)

$(BIN): $(BUILD)/obj/main.o $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $(BUILD)/obj/main.o $(LIB) $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(LIB) tests/unit/testutil.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests/unit -o $@ $< $(LIB) $(ALL_LDFLAGS) $(LDLIBS) \
		$(CHECK_LIBS)

-include $(OBJS:.o=.d) $(BUILD)/obj/main.d

# Installs build and test dependencies that are missing (Debian).
deps:
	@tests/lib/deps.sh

unit: $(UNIT_BINS)
	@tests/lib/run-unit.sh $(BUILD) $(UNIT_BINS)

check: deps
	$(MAKE) all unit-bins SANITIZE=$(SANITIZE)
	@tests/lib/run-all.sh $(BUILD)

unit-bins: $(UNIT_BINS)

integration: all
	@tests/lib/run-all.sh $(BUILD) --integration-only

# valgrind: the integration suite with every facteur process (supervisor,
# workers, re-execs) under memcheck, known library noise suppressed by
# tests/valgrind.supp. VALGRIND_TESTS="smtp pop3" runs only the modules
# whose name holds one of the words. Fails when any process reported an
# error; the reports are $(BUILD)/valgrind/vg.<pid>.
VG_DIR   = $(CURDIR)/$(BUILD)/valgrind
VG_ENV   = FACTEUR_VALGRIND=1 FACTEUR_MODULE_TIMEOUT=2400 \
	VALGRIND_OPTS="--log-file=$(VG_DIR)/vg.%p \
	--suppressions=$(CURDIR)/tests/valgrind.supp --num-callers=30 \
	--vgdb=no"
valgrind: all
	@rm -rf $(VG_DIR) && mkdir -p $(VG_DIR)
	@if [ -z "$(VALGRIND_TESTS)" ]; then \
		$(VG_ENV) tests/lib/run-all.sh $(BUILD) --integration-only; \
	else \
		d=$(VG_DIR)/scratch; mkdir -p $$d; chmod 755 $$d; \
		tests/lib/mariadb.sh start $$d/mariadb && \
		$(VG_ENV) FACTEUR_TEST_DIR=$$d \
		FACTEUR_BIN=$(CURDIR)/$(BIN) FACTEUR_BUILD=$(CURDIR)/$(BUILD) \
		$$([ -x /usr/bin/python3 ] && echo /usr/bin/python3 || \
		    echo python3) tests/integration/runner.py $(VALGRIND_TESTS); \
		rc=$$?; tests/lib/mariadb.sh stop $$d/mariadb; \
		rm -rf $$d; [ $$rc = 0 ]; \
	fi; rc=$$?; \
	bad=$$(find $(VG_DIR) -name 'vg.*' -size +0 | sort); \
	for f in $$bad; do echo "== $$f"; head -60 $$f; done; \
	if [ -n "$$bad" ]; then \
		echo "valgrind: memcheck errors in $$(echo $$bad | wc -w)" \
		    "processes (reports in $(VG_DIR))"; exit 1; \
	fi; \
	echo "valgrind: no memcheck errors"; exit $$rc

demo: deps all
	@tests/lib/demo.sh start $(BIN)

demo-stop:
	@tests/lib/demo.sh stop

# fuzz: FUZZ_SECONDS per target (0: build only), FUZZ_TARGETS="json smtp_cmd"
# for a subset, FUZZ_JOBS targets at once; build in build-fuzz/.
fuzz:
	@FUZZ_JOBS=$(or $(FUZZ_JOBS),1) \
	    tests/fuzz/run.sh $(or $(FUZZ_SECONDS),10) $(FUZZ_TARGETS)

bench: all
	@tests/bench/run.sh $(BIN)

PREFIX  ?= /usr
DESTDIR ?=

# install: what the Debian package ships (debian/rules calls it).
install: $(BIN)
	install -D -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/sbin/facteur
	install -d $(DESTDIR)$(PREFIX)/share/facteur/sql/migrations
	install -m 0644 sql/*.sql $(DESTDIR)$(PREFIX)/share/facteur/sql/
	install -m 0644 sql/migrations/*.sql \
		$(DESTDIR)$(PREFIX)/share/facteur/sql/migrations/
	install -d $(DESTDIR)$(PREFIX)/share/facteur/web
	if [ -n "$$(ls web)" ]; then cp -R web/. \
		$(DESTDIR)$(PREFIX)/share/facteur/web/; fi
	install -D -m 0644 conf/facteur.conf $(DESTDIR)/etc/facteur/facteur.conf

deb:
	dpkg-buildpackage -us -uc -b
	lintian --fail-on error,warning ../facteur_*.deb

clean:
	rm -rf build build-san build-fuzz facteur
