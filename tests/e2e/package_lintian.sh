#!/usr/bin/env bash
# The .deb as Debian's own checker sees it: cpack -G DEB from the build directory, then lintian
# with 0 errors and 0 warnings (overrides in deploy/debian/lintian-overrides, each with its
# reason).
source "$(dirname "$0")/lib.sh"
command -v lintian >/dev/null || fail "lintian not installed; run scripts/setup.sh --test"
command -v cpack >/dev/null || fail "cpack not installed"
(cd "$KVMEM_BUILD_DIR" && cpack -G DEB -B "$E2E_TMP/pkg") >"$E2E_TMP/cpack.log" 2>&1 || { cat "$E2E_TMP/cpack.log" >&2; fail "cpack -G DEB"; }
deb=$(ls "$E2E_TMP"/pkg/kvmem_*.deb 2>/dev/null | head -n1)
[[ -n "$deb" ]] || fail "no .deb in $E2E_TMP/pkg"

dpkg-deb -c "$deb" | awk '{print $NF}' | sed 's|^\./|/|' >"$E2E_TMP/contents"
for f in /usr/share/doc/kvmem/copyright /usr/share/doc/kvmem/changelog.Debian.gz \
         /usr/share/man/man1/kvmem_exporter.1.gz /usr/share/man/man1/kvmem_controller.1.gz; do
  grep -qxF "$f" "$E2E_TMP/contents" || fail "the .deb lacks $f"
done
cmp -s "$KVMEM_SOURCE_DIR/LICENSE" /usr/share/common-licenses/Apache-2.0 \
  || fail "LICENSE is not the standard Apache-2.0 text Debian ships"
mkdir -p "$E2E_TMP/root" && dpkg-deb -x "$deb" "$E2E_TMP/root"
zcat "$E2E_TMP/root/usr/share/man/man1/kvmem_exporter.1.gz" | grep -q -- 'web\\-config\\.file\|web\\fR\.config' \
  || fail "the exporter's man page does not list its flags"
pass "the .deb carries its copyright, changelog and both man pages"

# The verdict comes from a run without --show-overrides, which would count overridden tags
# too; the second run only prints every tag, info and overridden ones included, for the log.
rc=0
lintian --fail-on error,warning "$deb" >"$E2E_TMP/lintian.out" 2>"$E2E_TMP/lintian.err" || rc=$?
echo "lintian tags for $(basename "$deb") (O: overridden, I: info):"
lintian --display-info --show-overrides "$deb" 2>/dev/null | sed 's/^/  /' || true
grep -v 'root privileges' "$E2E_TMP/lintian.err" >&2 || true
errors=$(grep -c '^E:' "$E2E_TMP/lintian.out" || true)
warnings=$(grep -c '^W:' "$E2E_TMP/lintian.out" || true)
echo "lintian --fail-on error,warning: $errors errors, $warnings warnings, exit $rc"
[[ $rc -eq 0 && $errors -eq 0 && $warnings -eq 0 ]] || fail "lintian rejects the .deb"
pass "lintian: 0 errors, 0 warnings"
