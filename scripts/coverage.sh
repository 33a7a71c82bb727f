#!/usr/bin/env bash
# Line coverage, per source directory, of the unit tests and the end-to-end tests that need no
# guest: a separate build (build-coverage, -O0 --coverage, ccache), ctest, then gcovr (Debian's,
# over gcov) summed per directory. A second full build: about 40 minutes on 2 cores, so it is
# not part of scripts/test.sh; docs/testing.md records its latest numbers.
# Usage: scripts/coverage.sh [--write docs/testing.md]   (replaces the coverage section there)
set -euo pipefail
cd "$(dirname "$0")/.."
write=""
if [[ "${1:-}" == "--write" ]]; then write=${2:?"--write needs a file"}; fi
command -v gcovr >/dev/null || { echo "coverage: gcovr not installed; run scripts/setup.sh --test" >&2; exit 1; }
build=build-coverage
# ccache without CCACHE_BASEDIR: gcov needs the absolute source paths a base dir would rewrite.
unset CCACHE_BASEDIR
launcher=()
if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
# -fprofile-update=atomic: the exporter scrapes on two threads, and racing counter updates
# corrupt the counts (gcov then prints negative branch counts that gcovr refuses).
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS="--coverage -fprofile-update=atomic" \
  -DCMAKE_EXE_LINKER_FLAGS="--coverage" "${launcher[@]}" >/dev/null
start=$SECONDS
cmake --build "$build" -j"${KVMEM_COVERAGE_JOBS:-$(nproc)}"
echo "coverage: build took $((SECONDS - start)) s"

# Left out: tests that boot a QEMU guest (or need libvirtd with one), tests that resize this
# host's hugepage pools, and tests that run none of our C++ (setup.sh, the .deb, the dashboards'
# JSON schema), and privileges_exporter, which fails by design when a coverage build writes its
# .gcda files; the rest of the tests exercise the same code without them.
exclude='guest|fault_stale_stats|hugepages|setup_no_services|package_lintian|dashboard_schema|privileges_exporter'
find "$build" -name '*.gcda' -delete
start=$SECONDS
rc=0
ctest --test-dir "$build" -E "$exclude" --output-on-failure >"$build/coverage-ctest.log" 2>&1 || rc=1
tail -n 3 "$build/coverage-ctest.log"
echo "coverage: tests took $((SECONDS - start)) s"

gcovr --root . --filter 'common/' --filter 'host/' --filter 'exporter/' \
  --filter 'controller/' --filter 'bench/' -j "$(nproc)" --json-summary "$build/coverage.json" "$build" >/dev/null
python3 - "$build/coverage.json" "$exclude" "$write" <<'EOF'
import collections, json, os, sys
summary, exclude, write = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3]
per = collections.defaultdict(lambda: [0, 0])
for f in summary["files"]:
    d = per[os.path.dirname(f["filename"])]
    d[0] += f["line_covered"]
    d[1] += f["line_total"]
rows = ["| directory | lines covered | lines | % |", "|---|---:|---:|---:|"]
for name, (cov, total) in sorted(per.items()):
    rows.append(f"| `{name}/` | {cov} | {total} | {100.0 * cov / total if total else 0:.1f} |")
cov, total = summary["line_covered"], summary["line_total"]
rows.append(f"| all | {cov} | {total} | {100.0 * cov / total:.1f} |")
section = "\n".join(["<!-- coverage:begin -->",
    "Written by `scripts/coverage.sh --write docs/testing.md`: unit tests and "
    f"`ctest -E '{exclude}'` (no guest, no hugepage pools resized).", ""] + rows
    + ["<!-- coverage:end -->"]) + "\n"
print(section)
if write:
    text = open(write).read()
    head, rest = text.split("<!-- coverage:begin -->", 1)
    open(write, "w").write(head + section + rest.split("<!-- coverage:end -->", 1)[1].lstrip("\n"))
EOF
exit $rc
