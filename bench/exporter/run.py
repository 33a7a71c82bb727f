#!/usr/bin/env python3
"""Scrape benchmark: kvmem_exporter beside Debian's prometheus-node-exporter, in one run.

Both serve this host's memory facts on 127.0.0.1. node_exporter runs the collectors that cover
the same ground (meminfo, meminfo_numa, vmstat with all fields, ksmd, buddyinfo, zoneinfo,
pressure). Rounds alternate between the two so that machine noise hits both alike; medians are
reported. Also measured: CPU time per scrape, RSS, and the floor (only opening, reading and
closing the files each exporter reads, no parsing, no HTTP).

Usage: bench/exporter/run.py [--build build] [--rounds 5] [--seconds 5] [--out RESULTS.md]
       bench/exporter/run.py --check RESULTS.md   (every section has exactly the shape written here)
"""
import argparse, datetime, os, platform, re, shutil, signal, socket, statistics, subprocess, sys, tempfile, time

NODE_EXPORTER_ARGS = ["--collector.disable-defaults", "--collector.meminfo", "--collector.meminfo_numa",
                      "--collector.vmstat", "--collector.vmstat.fields=.*", "--collector.ksmd",
                      "--collector.buddyinfo", "--collector.zoneinfo", "--collector.pressure"]
CLK_TCK = os.sysconf("SC_CLK_TCK")
ROWS = ["samples served", "files read per scrape", "scrape p50 (ms)", "scrape p99 (ms)", "CPU per scrape (ms)",
        "peak RSS (MiB)", "of it anonymous / file-backed (MiB)", "floor: open+read+close of its files (ms)"]
NUM = r"[0-9]+(\.[0-9]+)?"
# One report, line by line, as main() writes it: the shape --check holds RESULTS.md to.
SHAPE = ([rf"## [0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}} on \S+ \([0-9]+ CPUs, kernel \S+, load average {NUM}\)", "",
          r"`bench/exporter/run.py --rounds [0-9]+ --seconds [0-9]+`; wrk -t1 -c1, medians over rounds\.", "",
          r"\| \| kvmem_exporter \| node_exporter \|", r"\|---\|---\|---\|"]
         + [rf"\| {re.escape(r)} \| [0-9. /]+ \| [0-9. /]+ \|" for r in ROWS]
         + ["", rf"- p50 ratio kvmem/node_exporter: {NUM} \(target <= 0\.(33|25)\): (met|NOT met)",
            rf"- p50 ratio kvmem/its floor: {NUM} \(target <= 1\.5\): (met|NOT met)",
            rf"- RSS {NUM} MiB \(target <= 8 MiB\): (met|NOT met)"])


def check(path):
    """Exit 1 naming the first line of a section that run.py would not have written."""
    sections = re.split(r"\n(?=## )", open(path).read())[1:]
    if not sections:
        sys.exit(f"{path}: no report section")
    for sec in sections:
        lines = sec.rstrip("\n").split("\n")
        if len(lines) != len(SHAPE):
            sys.exit(f"{path}: section '{lines[0]}' has {len(lines)} lines, run.py writes {len(SHAPE)}")
        for line, want in zip(lines, SHAPE):
            if not re.fullmatch(want, line):
                sys.exit(f"{path}: section '{lines[0]}': '{line}' is not what run.py writes ({want})")
    print(f"{path}: {len(sections)} section(s), each as run.py writes it")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def rss_kib(pid, field="VmRSS"):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def wait_ready(url, deadline=10):
    end = time.time() + deadline
    while time.time() < end:
        if subprocess.run(["curl", "-sf", "-o", "/dev/null", url]).returncode == 0:
            return
        time.sleep(0.05)
    sys.exit(f"not ready: {url}")


def files_read(cmd, url):
    """Starts `cmd` under strace, scrapes once, returns the regular files it opened for reading."""
    with tempfile.NamedTemporaryFile(suffix=".strace") as trace:
        proc = subprocess.Popen(["strace", "-f", "-qq", "-e", "trace=openat", "-o", trace.name] + cmd,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_ready(url)  # this is the first scrape
            subprocess.run(["curl", "-sf", "-o", "/dev/null", url], check=True)
            time.sleep(0.3)
            lines = open(trace.name).read().splitlines()
        finally:
            # Stop the traced program itself; strace exits when it does.
            children = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True).stdout.split()
            for child in children:
                os.kill(int(child), signal.SIGTERM)
            proc.wait(timeout=15)
    # Every /proc or /sys file opened (start-up included: a few runtime files such as
    # overcommit_memory slip in), each once: kvmem keeps descriptors open after the first scrape,
    # node_exporter reopens the same set every scrape.
    # With two threads opening at once strace splits a call into "<unfinished ...>" and
    # "<... openat resumed>" lines of the same pid: the path is on the first, the result on the second.
    files, pending = [], {}
    for line in lines:
        pid = line.split(" ", 1)[0]
        m = re.search(r'openat\(AT_FDCWD, "([^"]+)", O_RDONLY', line)
        if m and "O_DIRECTORY" in line:
            continue
        if m and line.rstrip().endswith("<unfinished ...>"):
            pending[pid] = m.group(1)
            continue
        path = ""
        if m and re.search(r"\)\s+=\s+\d+", line):
            path = m.group(1)
        elif "<... openat resumed>" in line and re.search(r"\)\s+=\s+\d+", line):
            path = pending.pop(pid, "")
        if (path.startswith("/proc/") or path.startswith("/sys/")) and path not in files:
            files.append(path)
    return files


def floor_us(floor_bin, files):
    out = subprocess.run([floor_bin, "2000"], input="\n".join(files), capture_output=True, text=True, check=True).stdout
    return float(re.search(r"median ([\d.]+) us", out).group(1)), out.strip()


def wrk(url, seconds):
    out = subprocess.run(["wrk", "-t1", "-c1", f"-d{seconds}s", "--latency", url], capture_output=True, text=True, check=True).stdout
    def ms(label):
        m = re.search(rf"^\s+{label}\s+([\d.]+)(us|ms|s)\b", out, re.M)
        v = float(m.group(1))
        return v / 1000 if m.group(2) == "us" else v * 1000 if m.group(2) == "s" else v
    reqs = int(re.search(r"(\d+) requests in", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)|Socket errors", out)
    return ms("50%"), ms("99%"), reqs, bool(errors)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--out", default=None, help="write a Markdown report here")
    ap.add_argument("--check", default=None, metavar="RESULTS", help="check RESULTS.md's sections and exit")
    args = ap.parse_args()
    if args.check:
        return check(args.check)
    exporter = os.path.join(args.build, "exporter", "kvmem_exporter")
    floor_bin = os.path.join(args.build, "bench", "kvmem_read_floor")
    node_exporter = shutil.which("prometheus-node-exporter")
    for need in (exporter, floor_bin, node_exporter, shutil.which("wrk"), shutil.which("strace")):
        if not need or not os.path.exists(need):
            sys.exit(f"missing {need}: build first and run scripts/setup.sh")

    libvirt_off = ["--no-collector.libvirt"] if "collector.libvirt" in subprocess.run([exporter, "--help"], capture_output=True, text=True).stdout else []
    targets = {}
    for name, base in (("kvmem_exporter", [exporter] + libvirt_off), ("node_exporter", [node_exporter] + NODE_EXPORTER_ARGS)):
        port = free_port()
        cmd = base + [f"--web.listen-address=127.0.0.1:{port}"]
        url = f"http://127.0.0.1:{port}/metrics"
        files = files_read(cmd, url)
        fl, fl_text = floor_us(floor_bin, files)
        targets[name] = dict(cmd=cmd, url=url, files=files, floor=fl, floor_text=fl_text, p50=[], p99=[], cpu=[], rss=0, anon=0, file=0, samples=0)

    procs = {}
    try:
        for name, t in targets.items():
            procs[name] = subprocess.Popen(t["cmd"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            wait_ready(t["url"])
            body = subprocess.run(["curl", "-s", t["url"]], capture_output=True, text=True).stdout
            t["samples"] = sum(1 for l in body.splitlines() if l and not l.startswith("#"))
            for _ in range(20):
                subprocess.run(["curl", "-s", "-o", "/dev/null", t["url"]])
        for r in range(args.rounds):
            for name, t in targets.items():
                pid = procs[name].pid
                c0 = cpu_seconds(pid)
                p50, p99, reqs, errors = wrk(t["url"], args.seconds)
                if errors:
                    sys.exit(f"{name}: wrk saw errors")
                t["p50"].append(p50)
                t["p99"].append(p99)
                t["cpu"].append((cpu_seconds(pid) - c0) / reqs * 1000)
                if rss_kib(pid) > t["rss"]:  # the split of the peak: the heap, or shared libraries
                    t["rss"], t["anon"], t["file"] = rss_kib(pid), rss_kib(pid, "RssAnon"), rss_kib(pid, "RssFile")
            print(f"round {r + 1}/{args.rounds}: " + ", ".join(f"{n} p50 {t['p50'][-1]:.2f} ms" for n, t in targets.items()), flush=True)
    finally:
        for p in procs.values():
            p.send_signal(signal.SIGTERM)
            p.wait(timeout=10)

    k, n = targets["kvmem_exporter"], targets["node_exporter"]
    med = lambda xs: statistics.median(xs)
    rows = [("samples served", f"{k['samples']}", f"{n['samples']}"),
            ("files read per scrape", f"{len(k['files'])}", f"{len(n['files'])}"),
            ("scrape p50 (ms)", f"{med(k['p50']):.2f}", f"{med(n['p50']):.2f}"),
            ("scrape p99 (ms)", f"{med(k['p99']):.2f}", f"{med(n['p99']):.2f}"),
            ("CPU per scrape (ms)", f"{med(k['cpu']):.2f}", f"{med(n['cpu']):.2f}"),
            ("peak RSS (MiB)", f"{k['rss'] / 1024:.1f}", f"{n['rss'] / 1024:.1f}"),
            ("of it anonymous / file-backed (MiB)", f"{k['anon'] / 1024:.1f} / {k['file'] / 1024:.1f}",
             f"{n['anon'] / 1024:.1f} / {n['file'] / 1024:.1f}"),
            ("floor: open+read+close of its files (ms)", f"{k['floor'] / 1000:.2f}", f"{n['floor'] / 1000:.2f}")]
    assert [r[0] for r in rows] == ROWS
    ratio_ne = med(k["p50"]) / med(n["p50"])
    ratio_floor = med(k["p50"]) / (k["floor"] / 1000)
    verdict = [f"- p50 ratio kvmem/node_exporter: {ratio_ne:.2f} (target <= 0.25): {'met' if ratio_ne <= 0.25 else 'NOT met'}",
               f"- p50 ratio kvmem/its floor: {ratio_floor:.2f} (target <= 1.5): {'met' if ratio_floor <= 1.5 else 'NOT met'}",
               f"- RSS {k['rss'] / 1024:.1f} MiB (target <= 8 MiB): {'met' if k['rss'] <= 8 * 1024 else 'NOT met'}"]
    table = "| | kvmem_exporter | node_exporter |\n|---|---|---|\n" + "\n".join(f"| {a} | {b} | {c} |" for a, b, c in rows)
    load = os.getloadavg()[0]  # other work on the machine: read ratios, not absolute times
    report = (f"## {datetime.date.today()} on {platform.node()} ({os.cpu_count()} CPUs, kernel {platform.release()}, "
              f"load average {load:.1f})\n\n"
              f"`bench/exporter/run.py --rounds {args.rounds} --seconds {args.seconds}`; wrk -t1 -c1, medians over rounds.\n\n"
              + table + "\n\n" + "\n".join(verdict) + "\n")
    print(report)
    if args.out:
        with open(args.out, "a") as f:
            f.write("\n" + report)


if __name__ == "__main__":
    main()
