#!/usr/bin/env bash
# Runs one libFuzzer target for a bounded time, as ctest does (label "fuzz"): new inputs go to
# WORK_DIR/corpus (the seeds are only read), findings to WORK_DIR/artifacts. Exits non-zero
# on any crash, sanitizer report, leak, slow input (-timeout) or memory blow-up, naming the
# saved input and how to replay it. docs/fuzzing.md has longer runs and triage.
# Usage: fuzz/run.sh FUZZER SECONDS MAX_LEN WORK_DIR SEED_DIR [DICT]
set -uo pipefail
fuzzer=${1:?usage: run.sh FUZZER SECONDS MAX_LEN WORK_DIR SEED_DIR [DICT]}
seconds=${2:?}
max_len=${3:?}
work=${4:?}
seeds=${5:?}
dict=${6:-}
name=$(basename "$fuzzer")

if [[ ! -d "$seeds" ]]; then
  echo "$name: no seed directory $seeds (build the fuzz_seeds target)" >&2
  exit 2
fi
mkdir -p "$work/corpus" "$work/artifacts"
args=(-max_total_time="$seconds" -max_len="$max_len" -timeout=10 -rss_limit_mb=2048
      -print_final_stats=1 -artifact_prefix="$work/artifacts/")
[[ -n "$dict" ]] && args+=(-dict="$dict")

log="$work/last-run.log"
"$fuzzer" "${args[@]}" "$work/corpus" "$seeds" >"$log" 2>&1
status=$?

final_stat() { sed -n "s/^stat::$1: *//p" "$log" | tail -n1; }
runs=$(final_stat number_of_executed_units)
rate=$(final_stat average_exec_per_sec)
cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n1)
echo "$name: ${runs:-?} runs (budget ${seconds} s), ${rate:-?} exec/s, ${cov:-cov: ?}," \
     "corpus $(find "$work/corpus" -type f | wc -l) files, peak RSS $(final_stat peak_rss_mb) MiB"
if ((status != 0)); then
  # Show the report: the sanitizer's or libFuzzer's, without the progress lines.
  grep -v -E '^#[0-9]+[[:space:]]+(NEW|REDUCE|pulse|INITED|RELOAD)' "$log" | tail -n 60 >&2
  echo "$name: FAILED (exit $status). Inputs saved in $work/artifacts/:" >&2
  ls -1t "$work/artifacts" | sed "s|^|  $work/artifacts/|" >&2
  echo "Replay: $fuzzer <file>    Minimise: $fuzzer -minimize_crash=1 -runs=10000 <file>" >&2
  exit 1
fi
