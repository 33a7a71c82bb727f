#!/usr/bin/env bash
# scripts/setup.sh against a fake dpkg and apt-get: the README's first command asks only for the
# build packages; the test stack is installed while an invoke-rc.d policy forbids starting
# services; that policy is removed afterwards, and an operator's own one is put back, even when
# apt-get fails.
source "$(dirname "$0")/lib.sh"
setup="$KVMEM_SOURCE_DIR/scripts/setup.sh"
shims="$E2E_TMP/bin"
mkdir -p "$shims"
# Nothing is installed; apt-get records its arguments and the policy it ran under.
printf '#!/bin/sh\nexit 1\n' >"$shims/dpkg-query"
cat >"$shims/apt-get" <<'EOF'
#!/bin/sh
[ "$1" = update ] && exit 0
echo "$*" >"$FAKE_LOG.args"
if [ -x "$KVMEM_POLICY_RC_D" ]; then "$KVMEM_POLICY_RC_D" prometheus start; echo "$?" >"$FAKE_LOG.policy"
else echo absent >"$FAKE_LOG.policy"; fi
exit "${FAKE_APT_RC:-0}"
EOF
printf '#!/bin/sh\necho 0\n' >"$shims/id"  # root, as far as setup.sh can tell
chmod +x "$shims"/*
export PATH="$shims:$PATH" FAKE_LOG="$E2E_TMP/apt" KVMEM_POLICY_RC_D="$E2E_TMP/policy-rc.d"

asked_for() { tr ' ' '\n' <"$FAKE_LOG.args" | grep -qx -- "$1"; }
run_setup() { rm -f "$FAKE_LOG".*; FAKE_APT_RC=$1 "$setup" "${@:2}" >"$E2E_TMP/setup.log" 2>&1; }

run_setup 0 || { cat "$E2E_TMP/setup.log" >&2; fail "setup.sh with the build packages"; }
for p in prometheus prometheus-alertmanager prometheus-libvirt-exporter victoria-metrics wrk libgtest-dev \
         qemu-system-x86; do
  asked_for "$p" && fail "the build-only setup installs $p"
done
asked_for help2man || fail "help2man is not among the build packages"
pass "the README's first command installs only build packages"

run_setup 0 --test --with-vm || { cat "$E2E_TMP/setup.log" >&2; fail "setup.sh --test --with-vm"; }
for p in prometheus prometheus-libvirt-exporter victoria-metrics lintian gcovr libvirt-daemon; do
  asked_for "$p" || fail "setup.sh --test --with-vm does not install $p"
done
[[ $(cat "$FAKE_LOG.policy") == 101 ]] || fail "services were not forbidden during the install: $(cat "$FAKE_LOG.policy")"
[[ -e "$KVMEM_POLICY_RC_D" ]] && fail "the policy-rc.d is left behind"
pass "test packages installed with services forbidden, the policy removed afterwards"

run_setup 100 --test && fail "setup.sh succeeded although apt-get failed"
[[ -e "$KVMEM_POLICY_RC_D" ]] && fail "the policy-rc.d is left behind after a failed install"
pass "the policy is removed when apt-get fails"

printf '#!/bin/sh\n# the operator'"'"'s\nexit 0\n' >"$KVMEM_POLICY_RC_D"
chmod 750 "$KVMEM_POLICY_RC_D"
cp -p "$KVMEM_POLICY_RC_D" "$E2E_TMP/operator"
run_setup 100 --test && fail "setup.sh succeeded although apt-get failed"
[[ $(cat "$FAKE_LOG.policy") == 101 ]] || fail "the operator's policy was in force during the install"
cmp -s "$KVMEM_POLICY_RC_D" "$E2E_TMP/operator" || fail "the operator's policy-rc.d was not restored"
[[ $(stat -c %a "$KVMEM_POLICY_RC_D") == 750 ]] || fail "the operator's policy-rc.d lost its mode"
[[ -z $(find "$E2E_TMP" -maxdepth 1 -name 'policy-rc.d.kvmem.*') ]] || fail "a saved copy is left behind"
pass "an operator's policy-rc.d is restored after a failed install"

rm -f "$KVMEM_POLICY_RC_D"
"$setup" --bogus >/dev/null 2>&1 && fail "setup.sh accepted an unknown argument"
[[ $? -eq 2 ]] || fail "an unknown argument does not exit 2"
pass "an unknown argument exits 2"
