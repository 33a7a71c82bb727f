#!/usr/bin/env bash
# Sends one command to the running e2e guest's /init over its control channel (the
# second serial port, a unix socket) and waits until the guest acknowledges it on its
# console log.
#
#   guest-ctl.sh COMMAND [ARGS...]      e.g.  guest-ctl.sh hog 300   guest-ctl.sh free
#
# Commands: hog MIB [STEP_MIB [STEP_MS]] | free | drop_caches | poweroff | echo TEXT
# (see guest/init). The ack only means the command was started: a hog reports
# "kvmem-hog: holding N MiB (done)" in the log once all its memory is touched.
# Env: KVMEM_TEST_CONTROL_SOCKET, KVMEM_TEST_SERIAL_LOG (set by with-guest.sh),
#      KVMEM_GUEST_CTL_TIMEOUT (default 10 s). Exit: 0 acked, 1 no ack / error, 2 usage.
set -euo pipefail

(($# >= 1)) || { echo "usage: $0 COMMAND [ARGS...]" >&2; exit 2; }
: "${KVMEM_TEST_CONTROL_SOCKET:?not set (run under with-guest.sh)}"
: "${KVMEM_TEST_SERIAL_LOG:?not set (run under with-guest.sh)}"
command -v python3 >/dev/null || { echo "guest-ctl.sh: python3 not found" >&2; exit 1; }

exec python3 - "$KVMEM_TEST_CONTROL_SOCKET" "$KVMEM_TEST_SERIAL_LOG" "${KVMEM_GUEST_CTL_TIMEOUT:-10}" "$*" <<'PY'
import os, socket, sys, time

sock_path, log_path, timeout, command = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
token = "%d.%d" % (os.getpid(), time.monotonic_ns())
ack = ("kvmem-guest: ack %s" % token).encode()
with open(log_path, "rb") as log:
    log.seek(0, os.SEEK_END)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(sock_path)
    except OSError as e:
        sys.exit("guest-ctl.sh: cannot connect to %s: %s (guest not running?)" % (sock_path, e.strerror))
    s.sendall(("%s #%s\n" % (command, token)).encode())
    seen = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        seen += log.read()
        if ack in seen:
            s.close()
            sys.exit(0)
        time.sleep(0.05)
    s.close()
sys.stderr.write("guest-ctl.sh: no ack for %r within %gs\n" % (command, timeout))
sys.exit(1)
PY
