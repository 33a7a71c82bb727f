#!/usr/bin/env bash
# Installs, idempotently, every Debian bookworm package kvmem needs to build and test.
# Usage: scripts/setup.sh [--with-vm]   (--with-vm adds QEMU/libvirtd for the real-guest tests)
set -euo pipefail

build_pkgs=(build-essential cmake pkg-config g++
  prometheus-cpp-dev libnuma-dev libvirt-dev libboost-dev libyaml-cpp-dev
  libgtest-dev libgmock-dev nlohmann-json3-dev libexpected-dev zlib1g-dev libssl-dev
  libxml2-dev)
test_pkgs=(prometheus prometheus-alertmanager prometheus-node-exporter wrk hyperfine curl
  libvirt-clients python3 jq strace
  prometheus-libvirt-exporter)
# Monitoring tests: PyYAML for the rule and deploy checks, dpkg-dev for cpack's dpkg-shlibdeps,
# systemd-analyze for the units, npm for the dashboards' @grafana/schema check. A nodejs that
# is not Debian's (nodesource) brings its own npm and conflicts with Debian's npm package.
test_pkgs+=(python3-yaml dpkg-dev systemd)
command -v npm >/dev/null || test_pkgs+=(npm)
# scripts/test.sh's second build: clang with ASan+UBSan and libFuzzer (docs/fuzzing.md),
# llvm-symbolizer for readable sanitizer stacks, and ccache for both builds.
test_pkgs+=(clang libclang-rt-14-dev llvm)
build_pkgs+=(ccache)
# --web.config.file: libxcrypt (bcrypt) to build; openssl for test certificates, htpasswd
# (apache2-utils) for bcrypt hashes in tests and docs/security.md.
build_pkgs+=(libcrypt-dev)
test_pkgs+=(openssl apache2-utils)
# deploy/logrotate: the real logrotate rotates the decision log in tests/e2e/decision_log_rotate.sh.
test_pkgs+=(logrotate)
vm_pkgs=(qemu-system-x86 libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients busybox-static cpio)

want=("${build_pkgs[@]}" "${test_pkgs[@]}")
if [[ "${1:-}" == "--with-vm" ]]; then want+=("${vm_pkgs[@]}"); fi

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
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Only refresh the package lists when they are absent or older than a day.
if [[ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mmin -1440 2>/dev/null | head -n1)" ]]; then
  apt-get update -qq
fi
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup: done"
