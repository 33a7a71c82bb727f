#!/usr/bin/env bash
# Builds the fuzz targets' seed corpora from the test fixtures (tests/fixtures: five whole
# fake hosts and libvirt XML), deploy/ (policy, web config) and the hand-made seeds in fuzz/seeds/, so
# no fixture is copied into the repository. One directory per target under OUT; file names
# are content hashes, so duplicates collapse. Targets that cover several parsers get the
# selector byte their LLVMFuzzerTestOneInput reads first.
# Usage: fuzz/make_seeds.sh SOURCE_DIR OUT_DIR
set -euo pipefail
src=${1:?usage: make_seeds.sh SOURCE_DIR OUT_DIR}
out=${2:?usage: make_seeds.sh SOURCE_DIR OUT_DIR}
hosts=$src/tests/fixtures/hosts
hand=$src/fuzz/seeds

rm -rf "$out.tmp"
mkdir -p "$out.tmp"

# put TARGET SELECTOR FILE...: copies each file (with the selector byte first, unless it is "-").
put() {
  local target=$1 selector=$2 f tmp
  shift 2
  mkdir -p "$out.tmp/$target"
  for f in "$@"; do
    [[ -f "$f" ]] || continue
    tmp="$out.tmp/$target/.new"
    if [[ "$selector" == - ]]; then cat "$f" >"$tmp"
    else { printf "\\$(printf %03o "$selector")"; cat "$f"; } >"$tmp"; fi
    mv "$tmp" "$out.tmp/$target/$(sha1sum "$tmp" | cut -c1-40)"
  done
}
# put_text TARGET SELECTOR TEXT: a seed that is not a file (a directory name).
put_text() {
  local f
  f=$(mktemp)
  printf '%s' "$3" >"$f"
  put "$1" "$2" "$f"
  rm -f "$f"
}

shopt -s nullglob
node=sys/devices/system/node
put meminfo - "$hosts"/*/proc/meminfo "$hosts"/*/$node/node*/meminfo
put keyvalue - "$hosts"/*/proc/vmstat "$hosts"/*/$node/node*/vmstat "$hosts"/*/$node/node*/numastat
put buddyinfo - "$hosts"/*/proc/buddyinfo
put psi - "$hosts"/*/proc/pressure/*
put swaps - "$hosts"/*/proc/swaps
put numa_maps - "$hand"/numa_maps/*
put numa_stat - "$hand"/numa_stat/*

# sysfs_values: the selector numbers are listed in fuzz/targets/sysfs_values_fuzz.cpp.
put sysfs_values 0 "$hosts"/*/$node/{online,possible,has_cpu,has_memory,has_normal_memory} \
  "$hosts"/*/$node/node*/cpulist
thp=sys/kernel/mm/transparent_hugepage
put sysfs_values 1 "$hosts"/*/$thp/{enabled,defrag,shmem_enabled,khugepaged/defrag} \
  "$hosts"/*/$thp/hugepages-*/* "$hosts"/*/sys/kernel/mm/ksm/advisor_mode
put sysfs_values 2 "$hosts"/*/sys/kernel/mm/hugepages/*/* "$hosts"/*/$node/node*/hugepages/*/* \
  "$hosts"/*/$thp/hpage_pmd_size "$hosts"/*/$thp/khugepaged/* "$hosts"/*/sys/kernel/mm/ksm/* \
  "$hosts"/*/sys/block/zram*/disksize
put sysfs_values 3 "$hosts"/*/sys/devices/system/memory/block_size_bytes
put sysfs_values 4 "$hosts"/*/proc/sys/vm/* "$hosts"/*/sys/kernel/mm/ksm/general_profit
for d in "$hosts"/*/sys/kernel/mm/hugepages/* "$hosts"/*/$thp/hugepages-*; do
  put_text sysfs_values 5 "${d##*/}"
done
put sysfs_values 6 "$hosts"/*/$node/node*/distance
put sysfs_values 7 "$hosts"/*/sys/block/zram*/mm_stat
put sysfs_values 8 "$hand"/ksm_stat/*
put sysfs_values 9 "$hand"/proc_cgroup/*
put_text sysfs_values 10 $' a\tb  1.5 -2e3 \r\n'

put policy_yaml - "$src"/deploy/policy.yaml "$hand"/policy_yaml/*
put webhook_payload - "$hand"/webhook_payload/*
put libvirt_xml 0 "$src"/tests/fixtures/libvirt/*.xml  # domain XML, and test-driver hosts full of it
put libvirt_xml 1 "$hand"/libvirt_xml/*
put http_headers 0 "$hand"/http_headers/basic.txt
put http_headers 1 "$hand"/http_headers/accept.txt
put http_headers 2 "$hand"/http_headers/listen.txt
put web_config - "$src"/deploy/web-config.yml "$hand"/web_config/*

rm -rf "$out"
mv "$out.tmp" "$out"
for d in "$out"/*/; do echo "fuzz seeds: $(ls "$d" | wc -l) for $(basename "$d")"; done
