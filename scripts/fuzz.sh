#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/, clang++-16, ASan + UBSan) into
# ${FUZZ_BUILD_DIR:-build-fuzz} and runs each one for SECONDS (default 20)
# from its committed seed corpus, copied to a temporary folder so the
# committed one stays as it is. Fails on any crash, leak, sanitizer report,
# invariant failure or timeout; the input that caused it is kept in
# ${FUZZ_ARTIFACTS:-build-fuzz/artifacts}.
#   scripts/fuzz.sh [SECONDS] [TARGET...]   e.g. scripts/fuzz.sh 600 tar_reader
#   FUZZ_JOBS=N        run N targets at once (default 1)
#   FUZZ_KEEP_CORPUS=1 keep the grown corpora (their path is printed)
# Each target's last libFuzzer line (executions, cov, ft) goes to
# ${FUZZ_ARTIFACTS}/<target>.log.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}
shift || true
build=${FUZZ_BUILD_DIR:-build-fuzz}
artifacts=${FUZZ_ARTIFACTS:-$build/artifacts}
jobs=${FUZZ_JOBS:-1}
cxx=${FUZZ_CXX:-clang++-16}

t0=$SECONDS
# -DNDEBUG as the shipped builds (RelWithDebInfo, the sanitizer build): Boost
# 1.74 Beast's debug assertion `n >= 5` in parse_chunk_header fires on a last
# chunk split across reads ("0\r\n", then one more byte), where its release
# code reads within bounds (checked with ASan); fuzz the code that ships.
launcher=()
if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
CXX=$cxx cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDE_FUZZ=ON \
    -DDE_BUILD_TESTS=OFF -DDE_WERROR=ON -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g -DNDEBUG" \
    "${launcher[@]}" >/dev/null
cmake --build "$build" -j "$(nproc)"
echo "fuzz.sh: build $((SECONDS - t0)) s" >&2

if (($# == 0)); then
    set -- $(cd fuzz/corpus && ls)
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/de-fuzz.XXXXXX")
if [[ "${FUZZ_KEEP_CORPUS:-0}" == 1 ]]; then
    echo "fuzz.sh: grown corpora in $work" >&2
else
    trap 'rm -rf "$work"' EXIT
fi
mkdir -p "$artifacts"

run_one() {
    local name=$1 bin=$build/fuzz/fuzz_$1
    mkdir -p "$work/$name"
    cp -R "fuzz/corpus/$name/." "$work/$name/"
    # -timeout: one input may take at most 10 s (a parser's blow-up is a bug);
    # -rss_limit_mb: a parser that allocates without bound is one too.
    if "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
        -print_final_stats=1 -artifact_prefix="$artifacts/$name-" "$work/$name" \
        >"$artifacts/$name.log" 2>&1; then
        echo "fuzz.sh: $name ok: $(grep -E '^#[0-9]+' "$artifacts/$name.log" | tail -1)" >&2
        return 0
    fi
    echo "fuzz.sh: $name FAILED (log: $artifacts/$name.log)" >&2
    grep -E 'ERROR|invariant failed|SUMMARY|Test unit written' "$artifacts/$name.log" | head -20 >&2
    return 1
}

rc=0
for name in "$@"; do
    if [[ ! -x "$build/fuzz/fuzz_$name" ]]; then
        echo "fuzz.sh: no target fuzz_$name" >&2
        rc=1
        continue
    fi
    (run_one "$name" && touch "$work/$name.ok") &
    while (($(jobs -rp | wc -l) >= jobs)); do wait -n || true; done
done
wait
for name in "$@"; do
    [[ -e "$work/$name.ok" ]] || rc=1
done
echo "fuzz.sh: total $((SECONDS - t0)) s" >&2
exit "$rc"
