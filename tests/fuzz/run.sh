#!/bin/sh
# Build every tests/fuzz/fuzz_*.c with clang + libFuzzer (ASan, UBSan) and
# run each for $1 seconds (default 10) on its seed corpus in
# tests/fuzz/corpus/<name>/. A crash stops the run with the reproducer in
# build-fuzz/crashes/.
set -eu
secs=${1:-10}
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
out=build-fuzz
mkdir -p "$out/obj" "$out/crashes" "$out/corpus"
CFLAGS="-g -O1 -std=c11 -D_GNU_SOURCE -pthread -Isrc $(pkg-config --cflags libmariadb) -fsanitize=fuzzer-no-link,address,undefined -DFACTEUR_VERSION=\"fuzz\""
# library objects, compiled once with coverage instrumentation
objs=""
for src in $(ls src/*/*.c); do
	o="$out/obj/$(echo "$src" | tr / _ | sed 's/\.c$/.o/')"
	if [ ! -f "$o" ] || [ "$src" -nt "$o" ]; then
		clang $CFLAGS -c -o "$o" "$src"
	fi
	objs="$objs $o"
done
rm -f "$out/libfacteur-fuzz.a"
ar rcs "$out/libfacteur-fuzz.a" $objs
libs="$(pkg-config --libs libmariadb openssl libargon2 zlib libcrypt) -pthread"
total=0
for t in tests/fuzz/fuzz_*.c; do
	[ -f "$t" ] || continue
	name=$(basename "$t" .c)
	clang $CFLAGS -fsanitize=fuzzer -o "$out/$name" "$t" "$out/libfacteur-fuzz.a" $libs
	corpus="$out/corpus/$name"
	mkdir -p "$corpus"
	seeds="tests/fuzz/corpus/${name#fuzz_}"
	[ -d "$seeds" ] || seeds=""
	echo "fuzz: $name for ${secs}s"
	"$out/$name" -max_total_time="$secs" -max_len=65536 \
	    -artifact_prefix="$out/crashes/$name-" "$corpus" $seeds \
	    >"$out/$name.log" 2>&1 || { tail -40 "$out/$name.log"; exit 1; }
	grep -E '^(#[0-9]+|Done)' "$out/$name.log" | tail -1
	total=$((total + 1))
done
echo "fuzz: $total targets ran ${secs}s each with no crash"
