#!/usr/bin/env bash
# Installs, idempotently, the Debian bookworm packages kvmem needs.
# Usage: scripts/setup.sh [--test] [--with-vm]
#   (none)     building and running the exporter: what scripts/run-exporter.sh needs, nothing more
#   --test     adds the test stack (scripts/test.sh), installed without starting its services
#   --with-vm  adds QEMU/libvirtd for the real-guest tests, also without starting services
set -euo pipefail

build_pkgs=(build-essential cmake pkg-config g++
  prometheus-cpp-dev libnuma-dev libvirt-dev libboost-dev libyaml-cpp-dev
  nlohmann-json3-dev libexpected-dev zlib1g-dev libssl-dev libxml2-dev)
# --web.config.file: libxcrypt (bcrypt). help2man writes the man pages from --help at build time.
build_pkgs+=(libcrypt-dev help2man)
test_pkgs=(libgtest-dev libgmock-dev
  prometheus prometheus-alertmanager prometheus-node-exporter wrk hyperfine curl
  libvirt-clients python3 jq strace
  prometheus-libvirt-exporter)
# Monitoring tests: PyYAML for the rule and deploy checks, dpkg-dev for cpack's dpkg-shlibdeps,
# systemd-analyze for the units, npm for the dashboards' @grafana/schema check, lintian for
# the .deb. A nodejs that is not Debian's (nodesource) brings its own npm and conflicts with
# Debian's npm package.
test_pkgs+=(python3-yaml dpkg-dev systemd lintian)
command -v npm >/dev/null || test_pkgs+=(npm)
# scripts/test.sh's second build: clang with ASan+UBSan and libFuzzer (docs/fuzzing.md),
# llvm-symbolizer for readable sanitizer stacks, and ccache for both builds.
test_pkgs+=(clang libclang-rt-14-dev llvm ccache)
# scripts/check_format.sh (the code_format test): the style in .clang-format.
test_pkgs+=(clang-format)
# openssl for test certificates, htpasswd (apache2-utils) for bcrypt hashes in tests and
# docs/security.md.
test_pkgs+=(openssl apache2-utils)
# deploy/logrotate: the real logrotate rotates the decision log in tests/e2e/decision_log_rotate.sh.
test_pkgs+=(logrotate)
# scripts/coverage.sh (docs/testing.md): per-directory line coverage from gcov.
test_pkgs+=(gcovr)
# tests/e2e/fleet_victoriametrics.sh: the fleet through vmagent, VictoriaMetrics and vmalert
# (one package ships all three; its postinst would start VictoriaMetrics on :8428).
test_pkgs+=(victoria-metrics)
vm_pkgs=(qemu-system-x86 libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients busybox-static cpio)

want=("${build_pkgs[@]}")
for arg in "$@"; do
  case "$arg" in
    --test) want+=("${test_pkgs[@]}") ;;
    --with-vm) want+=("${vm_pkgs[@]}") ;;
    *) echo "setup: unknown argument $arg (usage: scripts/setup.sh [--test] [--with-vm])" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  echo "setup: all ${#want[@]} packages present"
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "setup: missing packages: ${missing[*]}; run this script as root (or install them)" >&2
  exit 1
fi

# The test stack ships daemons (Prometheus on :9090, the libvirt exporter on :9177,
# VictoriaMetrics on :8428, libvirtd) whose maintainer scripts would start them; the tests start
# their own on random ports. An invoke-rc.d policy answering 101 ("action forbidden") is Debian's
# way to install without starting anything; an operator's own policy is put back afterwards, even
# on failure.
policy=${KVMEM_POLICY_RC_D:-/usr/sbin/policy-rc.d}  # tests point it elsewhere
saved=""
restore_policy() {
  rm -f "$policy"
  if [[ -n "$saved" ]]; then mv -f "$saved" "$policy"; fi
}
if [[ -e "$policy" ]]; then
  saved=$(mktemp "$policy.kvmem.XXXXXX")
  cp -p "$policy" "$saved"
fi
trap restore_policy EXIT
trap "exit 130" INT  # so that Ctrl-C during apt-get still runs the EXIT trap
trap "exit 143" TERM
printf '#!/bin/sh\n# scripts/setup.sh: install without starting services\nexit 101\n' >"$policy"
chmod 755 "$policy"

echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Only refresh the package lists when they are absent or older than a day.
if [[ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mmin -1440 2>/dev/null | head -n1)" ]]; then
  apt-get update -qq
fi
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup: done"
