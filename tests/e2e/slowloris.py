#!/usr/bin/env python3
"""A slowloris attack on 127.0.0.1 while a scraper fetches the metrics once per second.

The attacker keeps --connections sockets open, each sending the start of a request and then
one header byte now and then, reconnecting whenever the server drops it. The scraper opens a
new connection per scrape (the worst case: it needs a free slot every time) and records
status and latency. Prints a summary line and exits 1 when a scrape failed or took longer
than --bound seconds. Bounded in time: stops by itself after --duration seconds.
"""
import argparse
import http.client
import random
import socket
import threading
import time


def attacker(port, connections, stop, stats):
    socks = [None] * connections
    next_send = [0.0] * connections

    def connect(i):
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=2)
            s.setblocking(False)
            s.send(b"GET /metrics HTTP/1.1\r\nHost: slowloris\r\n")
            socks[i] = s
            stats["connects"] += 1
        except OSError:
            socks[i] = None
        next_send[i] = time.monotonic() + random.uniform(0.5, 3.0)

    for i in range(connections):
        connect(i)
    while not stop.is_set():
        now = time.monotonic()
        for i in range(connections):
            if now < next_send[i]:
                continue
            s = socks[i]
            try:
                if s is None:
                    raise OSError("not connected")
                # A closed connection shows as EOF or an error; then reconnect at once.
                try:
                    if s.recv(1024) == b"":
                        raise OSError("closed by the server")
                except BlockingIOError:
                    pass
                s.send(b"X")
                stats["bytes"] += 1
                next_send[i] = now + random.uniform(0.5, 3.0)
            except OSError:
                if s is not None:
                    s.close()
                    stats["dropped"] += 1
                connect(i)
        time.sleep(0.02)
    for s in socks:
        if s is not None:
            s.close()


def scrape(port, path, timeout):
    start = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        body = resp.read()
        ok = resp.status == 200 and b"kvmem_" in body
        return ok, time.monotonic() - start, f"status {resp.status}, {len(body)} bytes"
    except OSError as e:
        return False, time.monotonic() - start, f"{type(e).__name__}: {e}"
    finally:
        conn.close()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--connections", type=int, default=300)
    p.add_argument("--duration", type=float, default=30)
    p.add_argument("--path", default="/metrics")
    p.add_argument("--bound", type=float, default=1.0, help="longest a scrape may take, seconds")
    a = p.parse_args()

    stop = threading.Event()
    stats = {"connects": 0, "dropped": 0, "bytes": 0}
    t = threading.Thread(target=attacker, args=(a.port, a.connections, stop, stats), daemon=True)
    t.start()
    time.sleep(2)  # let the attack fill the server first
    latencies, failures = [], []
    end = time.monotonic() + a.duration
    while time.monotonic() < end:
        tick = time.monotonic()
        ok, took, what = scrape(a.port, a.path, timeout=a.bound * 5)
        latencies.append(took)
        if not ok or took > a.bound:
            failures.append(f"scrape {len(latencies)}: {what} in {took * 1000:.0f} ms")
        time.sleep(max(0.0, 1.0 - (time.monotonic() - tick)))
    stop.set()
    t.join(timeout=5)
    latencies.sort()
    print(f"slowloris: {a.connections} attacking connections, {stats['connects']} connects, "
          f"{stats['dropped']} dropped by the server, {stats['bytes']} trickled bytes; "
          f"{len(latencies)} scrapes, {len(failures)} failed or over {a.bound:.1f} s; "
          f"latency p50 {latencies[len(latencies) // 2] * 1000:.1f} ms, max {latencies[-1] * 1000:.1f} ms")
    for f in failures[:10]:
        print("  " + f)
    return 1 if failures or stats["dropped"] == 0 else 0


if __name__ == "__main__":
    raise SystemExit(main())
