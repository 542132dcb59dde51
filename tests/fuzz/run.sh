#!/bin/sh
# Build tests/fuzz/fuzz_*.c with clang + libFuzzer (ASan, UBSan) and run
# each for SECONDS (default 10) on its seed corpus tests/fuzz/corpus/<name>/
# plus the grown corpus in $FUZZ_OUT/corpus/fuzz_<name>/.
#
#   tests/fuzz/run.sh [SECONDS] [NAME...]    NAME: http_head or fuzz_http_head
#
# SECONDS=0 builds only. Environment: FUZZ_OUT (build directory, default
# build-fuzz), FUZZ_JOBS (targets run at once, default 1), FUZZ_MAKE_JOBS
# (parallel compiles, default 2), FUZZ_MAX_LEN (default 65536).
#
# The build is incremental: library objects are compiled by the Makefile's
# own object rule (with -MMD header dependencies) into $FUZZ_OUT/obj/, and
# only the objects a target needs: the sources behind every header it
# reaches, transitively, plus whatever the linker still reports missing.
# A crash does not stop the other targets; the run ends with a failure and
# the reproducer in $FUZZ_OUT/crashes/. The last line is
# "fuzz: N targets ran Ss each with no crash" on success.
set -eu
secs=${1:-10}
[ $# -gt 0 ] && shift
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
out=${FUZZ_OUT:-build-fuzz}
jobs=${FUZZ_JOBS:-1}
mjobs=${FUZZ_MAKE_JOBS:-2}
maxlen=${FUZZ_MAX_LEN:-65536}
mkdir -p "$out/crashes" "$out/corpus"
# old flat object layout (src_x_y.o) is no longer used
rm -f "$out"/obj/src_*.o

if ! command -v clang >/dev/null 2>&1; then
	echo "fuzz: clang not found" >&2
	exit 2
fi
# UBSan reports must be crashes: recovered ones only print, and libFuzzer
# goes on as if nothing happened
SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined \
    -fno-omit-frame-pointer"
OBJ_CFLAGS="-g -O1 $SAN -fsanitize=fuzzer-no-link"
CPPFLAGS="-std=c11 -D_GNU_SOURCE -Isrc $(pkg-config --cflags libmariadb \
    openssl 2>/dev/null)"
CFLAGS="-g -O1 $CPPFLAGS -pthread $SAN -DFACTEUR_VERSION=\"fuzz\""
libs="$(pkg-config --libs libmariadb openssl libargon2 zlib libcrypt) -pthread"
# objects built with other flags (an older run.sh) are thrown away
if [ "$(cat "$out/flags" 2>/dev/null)" != "$OBJ_CFLAGS" ]; then
	rm -rf "$out/obj" "$out"/lib-*.a
	mkdir -p "$out/obj"
	echo "$OBJ_CFLAGS" >"$out/flags"
fi

# headers: the src/*.h a C file includes, directly or through headers;
# from the object's dependency file when that is newer than the source
headers() {
	d="$out/obj/${1#src/}"
	d="${d%.c}.d"
	if [ "${1#src/}" != "$1" ] && [ -f "$d" ] && [ "$d" -nt "$1" ]; then
		tr -d '\\' <"$d"
	else
		clang $CPPFLAGS -MM "$1"
	fi | tr ' ' '\n' | grep '^src/.*\.h$' || true
}

# newer FILE DEPFILE: true when FILE is missing or older than anything
# DEPFILE (make syntax) names
newer() {
	[ -f "$1" ] && [ -f "$2" ] || return 0
	for f in $(tr -d '\\' <"$2" | tr ' ' '\n' | grep -v ':$'); do
		[ -f "$f" ] && [ "$f" -nt "$1" ] && return 0
	done
	return 1
}

# closure FILE...: the src/*/*.c behind every header FILE reaches, and
# theirs, transitively (main.c never)
closure() {
	todo="$*"
	seen=""
	while [ -n "$todo" ]; do
		set -- $todo
		f=$1
		shift
		todo="$*"
		case " $seen " in *" $f "*) continue ;; esac
		seen="$seen $f"
		for h in $(headers "$f"); do
			c=${h%.h}.c
			[ -f "$c" ] && [ "$c" != src/main.c ] && todo="$todo $c"
		done
	done
	for f in $seen; do
		case $f in src/*/*.c) echo "$f" ;; esac
	done
}

# objects SRC...: compile (incrementally) and print the object paths
objects() {
	o=""
	for s in "$@"; do
		o="$o $out/obj/${s#src/}"
	done
	o=$(echo "$o" | sed 's/\.c\( \|$\)/.o\1/g')
	[ -n "$o" ] || return 0
	# shellcheck disable=SC2086
	# not the caller's make variables (make check SANITIZE=1 BUILD_DIR=..
	# runs this through the smoke test)
	if ! env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKEOVERRIDES \
	    make -s -j"$mjobs" BUILD_DIR="$out" SANITIZE= CC=clang \
	    CFLAGS="$OBJ_CFLAGS" LDFLAGS= $o >"$out/make.log" 2>&1; then
		cat "$out/make.log" >&2
		return 1
	fi
	echo "$o"
}

# definers LOG: sources defining the symbols the linker reported missing
definers() {
	sed -n "s/.*undefined reference to \`\([A-Za-z_][A-Za-z0-9_]*\)'.*/\1/p" \
	    "$1" | sort -u | while read -r sym; do
		grep -l "^$sym(" src/*/*.c 2>/dev/null | grep -v '^src/main.c$' |
		    head -1
	done | sort -u
}

build() {
	name=$1
	t=tests/fuzz/$name.c
	srcs=$(closure "$t")
	tries=0
	while :; do
		objs=$(objects $srcs) || return 1
		a="$out/lib-$name.a"
		stale=0
		[ -f "$a" ] || stale=1
		# shellcheck disable=SC2086
		[ "$(ar t "$a" 2>/dev/null | sort)" = \
		    "$(for o in $objs; do basename "$o"; done | sort)" ] ||
		    stale=1
		for o in $objs; do
			[ "$o" -nt "$a" ] && stale=1
		done
		if [ $stale = 1 ]; then
			rm -f "$a"
			# shellcheck disable=SC2086
			ar rcs "$a" $objs
		fi
		# relink when the archive or anything the target includes moved
		if [ -x "$out/$name" ] && [ ! "$a" -nt "$out/$name" ] &&
		    ! newer "$out/$name" "$out/$name.d"; then
			return 0
		fi
		# shellcheck disable=SC2086
		if clang $CFLAGS -fsanitize=fuzzer -MMD -MF "$out/$name.d" \
		    -o "$out/$name" "$t" "$a" $libs \
		    >"$out/$name.link" 2>&1; then
			return 0
		fi
		more=$(definers "$out/$name.link")
		new=""
		for s in $more; do
			case " $(echo $srcs) " in *" $s "*) ;; *) new="$new $s" ;;
			esac
		done
		tries=$((tries + 1))
		if [ -z "$new" ] || [ $tries -gt 5 ]; then
			cat "$out/$name.link" >&2
			return 1
		fi
		srcs="$srcs $(closure $new)"
		srcs=$(echo $srcs | tr ' ' '\n' | sort -u)
	done
}

run() {
	name=$1
	corpus="$out/corpus/$name"
	mkdir -p "$corpus"
	seeds="tests/fuzz/corpus/${name#fuzz_}"
	[ -d "$seeds" ] || seeds=""
	rc=0
	# shellcheck disable=SC2086
	"$out/$name" -max_total_time="$secs" -max_len="$maxlen" -timeout=60 \
	    -artifact_prefix="$out/crashes/$name-" "$corpus" $seeds \
	    >"$out/$name.log" 2>&1 || rc=$?
	echo $rc >"$out/$name.rc"
	if [ $rc -ne 0 ]; then
		echo "fuzz: $name CRASHED (exit $rc), log $out/$name.log:"
		tail -40 "$out/$name.log"
	else
		echo "fuzz: $name: $(grep -E '^(#[0-9]+|Done)' \
		    "$out/$name.log" | tail -1)"
	fi
}

names=""
if [ $# -gt 0 ]; then
	for n in "$@"; do
		n=fuzz_${n#fuzz_}
		n=${n%.c}
		[ -f "tests/fuzz/$n.c" ] || { echo "fuzz: no $n" >&2; exit 2; }
		names="$names $n"
	done
else
	for t in tests/fuzz/fuzz_*.c; do
		[ -f "$t" ] && names="$names $(basename "$t" .c)"
	done
fi

total=0
for n in $names; do
	build "$n" || { echo "fuzz: $n does not build" >&2; exit 1; }
	total=$((total + 1))
done
if [ "$secs" -eq 0 ]; then
	echo "fuzz: $total targets built"
	exit 0
fi

i=0
for n in $names; do
	echo "fuzz: $n for ${secs}s"
	run "$n" &
	i=$((i + 1))
	if [ $i -ge "$jobs" ]; then
		wait
		i=0
	fi
done
wait
bad=""
for n in $names; do
	[ "$(cat "$out/$n.rc")" = 0 ] || bad="$bad $n"
done
if [ -n "$bad" ]; then
	echo "fuzz: crash in:$bad (reproducers in $out/crashes/)"
	exit 1
fi
echo "fuzz: $total targets ran ${secs}s each with no crash"
