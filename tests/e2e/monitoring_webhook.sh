#!/usr/bin/env bash
# The controller's Alertmanager webhook over real HTTP: each kind of bad request gets its status,
# a log line and a count; a good one triggers one logged, counted evaluation; without a token
# it refuses to listen beyond loopback; --no-webhook turns it off.
source "$(dirname "$0")/lib.sh"
CTL=${KVMEM_CONTROLLER:?} SRC=${KVMEM_SOURCE_DIR:?}
HOST="$SRC/tests/fixtures/hosts/two-node"
args=(--libvirt.uri= --path.procfs="$HOST/proc" --path.sysfs="$HOST/sys")

rc=0; err=$("$CTL" "${args[@]}" --web.listen-address=0.0.0.0:0 2>&1) || rc=$?
assert_eq "$rc" 2 "webhook without a token on all addresses"
grep -q 'needs --webhook.bearer-token-file' <<<"$err" || fail "exposure error message: $err"
printf '\n' >"$E2E_TMP/empty"
rc=0; err=$("$CTL" "${args[@]}" --webhook.bearer-token-file="$E2E_TMP/empty" 2>&1) || rc=$?
assert_eq "$rc" 2 "empty token file"
grep -q 'is empty' <<<"$err" || fail "empty token message: $err"
pass "no token beyond loopback and an empty token file are usage errors (exit 2)"

start_daemon OFF "$CTL" "${args[@]}" --no-webhook --web.listen-address=127.0.0.1:0
assert_eq "$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$OFF_PORT/webhook")" 404 "--no-webhook"
scrape "$OFF_PORT" | grep -q kvmem_controller_webhook && fail "--no-webhook still exports webhook metrics"
stop_daemon "$OFF_PID"
pass "--no-webhook serves no webhook"

start_daemon CTL "$CTL" "${args[@]}" --web.listen-address=127.0.0.1:0
URL="http://127.0.0.1:$CTL_PORT/webhook"
post() { curl -s -o "$E2E_TMP/body" -w '%{http_code}' "$@"; }
assert_eq "$(post "$URL")" 405 "GET"
assert_eq "$(post -X POST -H 'Content-Type: text/plain' -d '{}' "$URL")" 415 "text/plain"
assert_eq "$(post -H 'Content-Type: application/json' -d '{"version":"4"' "$URL")" 400 "truncated JSON"
assert_eq "$(post -H 'Content-Type: application/json' -d '{"version":"3","alerts":[]}' "$URL")" 400 "version 3"
grep -q 'version: expected "4", got "3"' "$E2E_TMP/body" || fail "400 body: $(cat "$E2E_TMP/body")"
head -c 600000 /dev/zero | tr '\0' ' ' >"$E2E_TMP/big"
assert_eq "$(post -H 'Content-Type: application/json' --data-binary @"$E2E_TMP/big" "$URL")" 413 "600 kB body"
# Above the HTTP server's own 1 MiB cap the server refuses it; it must still be counted.
head -c 2000000 /dev/zero | tr '\0' ' ' >"$E2E_TMP/huge"
assert_eq "$(post -H 'Content-Type: application/json' --data-binary @"$E2E_TMP/huge" "$URL")" 413 "2 MB body"
payload='{"version":"4","status":"firing","receiver":"kvmem","alerts":[
  {"status":"firing","labels":{"alertname":"KvmemNodeFragmentationHigh","node":"1","instance":"kvm1:9848"}},
  {"status":"firing","labels":{"alertname":"KvmemSwapThrashing"}}]}'
assert_eq "$(post -H 'Content-Type: application/json' -d "$payload" "$URL")" 200 "good payload"
grep -q '"triggered":1,"ignored":1' "$E2E_TMP/body" || fail "200 body: $(cat "$E2E_TMP/body")"
sleep 0.5
scrape "$CTL_PORT" >"$E2E_TMP/ctl.prom"
for pair in method_not_allowed:1 unsupported_media_type:1 bad_request:2 too_large:2 accepted:1; do
  assert_eq "$(metric_value "$E2E_TMP/ctl.prom" "kvmem_controller_webhook_requests_total{result=\"${pair%%:*}\"}")" \
    "${pair#*:}" "requests ${pair%%:*}"
done
assert_eq "$(metric_value "$E2E_TMP/ctl.prom" 'kvmem_controller_webhook_evaluations_total{alertname="KvmemNodeFragmentationHigh"}')" 1 "evaluations"
for s in 405 415 400 413; do grep -q "msg=\"webhook request refused\" status=$s" "$CTL_LOG" || fail "no log line for $s"; done
grep -q 'msg="webhook evaluation" alertname=KvmemNodeFragmentationHigh subject="node 1" rules=compaction.fragmentation instance=kvm1:9848' \
  "$CTL_LOG" || fail "evaluation not logged: $(grep webhook "$CTL_LOG")"
stop_daemon "$CTL_PID"
pass "405, 415, 400, 413 each logged and counted; one firing policy alert evaluated, logged and counted"
echo "monitoring_webhook: all passed"
