#!/bin/sh
# Runs every libFuzzer target of a QUICC_FUZZ build for SECONDS each, starting
# from the kept corpus (tests/fuzz/corpus/X, replayed first) and growing a
# working corpus in BUILD/corpus/X. New crashes, leaks and timeouts land in
# BUILD/artifacts/; the run fails if there is any. Prints one line per target:
# executions, executions per second, coverage (edges) and corpus size.
# Usage: tests/fuzz/run.sh BUILD SECONDS [TARGET...]
set -u
build=$1
secs=$2
shift 2
src=$(cd "$(dirname "$0")" && pwd)
targets=${*:-$(cd "$build/fuzz" && ls fuzz_* | grep -v '^fuzz_seeds$' | sed 's/^fuzz_//')}
mkdir -p "$build/artifacts" "$build/logs"
failed=0
printf '%-16s %12s %9s %7s %7s  %s\n' target executions exec/s cov corpus result
for t in $targets; do
    mkdir -p "$build/corpus/$t"
    log="$build/logs/$t.log"
    "$build/fuzz/fuzz_$t" -max_total_time="$secs" -print_final_stats=1 -timeout=20 \
        -rss_limit_mb=2048 -max_len=4096 -artifact_prefix="$build/artifacts/$t-" \
        "$build/corpus/$t" "$src/corpus/$t" >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
    corp=$(ls "$build/corpus/$t" | wc -l)
    result=ok
    if [ $rc -ne 0 ]; then
        result="FAILED (exit $rc, see $log)"
        failed=1
    fi
    printf '%-16s %12s %9s %7s %7s  %s\n' "$t" "${execs:-?}" "${rate:-?}" "${cov:-?}" "$corp" "$result"
done
exit $failed
