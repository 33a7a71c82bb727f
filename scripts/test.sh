#!/usr/bin/env bash
# README command 2: install what is missing (including QEMU and libvirtd for the real-guest
# tests), build with warnings as errors, and run every test with ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --with-vm
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKVMEM_WERROR=ON >/dev/null
cmake --build build -j"$(nproc)"
ctest --test-dir build --output-on-failure "$@"
