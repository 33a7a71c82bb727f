#!/usr/bin/env python3
"""Mutation check of the decision core: applies one simple mutation at a time to
controller/policy/*.cpp (a flipped comparison, && and || swapped, a dropped `if (...) return`
or `continue` guard, a changed numeric constant), rebuilds the unit-test binary (which
rebuilds only kvmem_policy and relinks), runs the policy unit tests, and puts the file back.
A mutant is killed when the tests fail or time out, survives when they pass, and is
stillborn when it does not compile (not counted). A survivor on the EQUIVALENT list, which
cannot change any decision, is reported apart with its reason and not counted either.

The tree must be clean: the script writes the sources it mutates and restores them from
memory whatever happens (try/finally, SIGTERM included), and a clean tree means nothing of
yours is at stake. A sample of the mutants, drawn with a fixed seed, keeps a run within
reach of a 2-core machine; the same seed and sources give the same mutants.

Usage: scripts/mutate-policy.py [--sample 60] [--seed 15] [--build build]
                                [--write docs/testing.md]
--write replaces the part of that file between the mutation markers with the results."""
import argparse
import os
import pathlib
import random
import re
import signal
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
POLICY = ROOT / "controller" / "policy"
TEST_FILTER = "Policy*"  # every suite of tests/unit/policy_*_test.cpp, and only those
TEST_TIMEOUT = 60  # seconds; the suite takes well under one, so a mutant that loops is killed
BEGIN, END = "<!-- mutate-policy:begin -->", "<!-- mutate-policy:end -->"

COMPARISONS = {"<": "<=", "<=": "<", ">": ">=", ">=": ">", "==": "!=", "!=": "=="}
LOGICAL = {"&&": "||", "||": "&&"}
# Spaces around the operator: clang-format writes binary operators that way, and it keeps
# template brackets, ->, << and >> out of the match.
BINARY = re.compile(r"(?<= )(<=|>=|==|!=|<|>|&&|\|\|)(?= )")
NUMBER = re.compile(r"(?<![\w.])(\d+)(\.\d+)?([uUlLfF]*)(?![\w.])")
GUARD = re.compile(r"^\s*if \(.*\) (return\b.*|continue);\s*$")
STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


# Mutants that cannot change any decision, by file and mutated line, each with the reason. They
# are run like the others but not counted; the report lists them so a reader can disagree.
EQUIVALENT = {
    ("cycle.cpp", "if (!older || !newer || *older > 0 || *newer >= 0) return std::nullopt;"):
        "an older slope of exactly 0 yields a trend of max(0, newer) = 0, which projects nothing "
        "(the projection and early reclaim need a slope < 0)",
    ("cycle.cpp", "if (delta_bytes < 1) freed_[node] += static_cast<double>(-delta_bytes);"):
        "a delta of 0 adds 0",
    ("cycle.cpp", "if (delta_bytes >= 0) drawn_[node] += static_cast<double>(delta_bytes);"):
        "a delta of 0 adds 0",
    ("cycle.cpp", "if (r <= c) BookNode(dev.node, "
                  "-static_cast<int64_t>(std::min<uint64_t>(c - r, INT64_MAX)));"):
        "r == c books a delta of 0, which BookNode ignores",
    ("cycle.cpp", "const int64_t delta = model::Direction(action) <= 0 ? -magnitude : magnitude;"):
        "Direction is 0 only for an action that moves no bytes: the magnitude is 0, and -0 is 0",
    ("hugepages.cpp", "constexpr uint64_t CeilDiv(uint64_t a, uint64_t b) { return b == 0 ? 1 : "
                      "a / b + (a % b != 0 ? 1 : 0); }"):
        "every caller has already skipped a page size of 0",
    ("hugepages.cpp", "uint64_t headroom = 1;"):
        "BalanceOf, the only place a Balance is made, assigns every field",
    ("hugepages.cpp", "uint64_t reserved = 1;  // host-wide, of this size"):
        "BalanceOf, the only place a Balance is made, assigns every field",
    ("placement.cpp",
     'low + " for " + FormatSeconds(held.value_or(model::Duration{1})) + " (for " +'):
        "FormatSeconds prints 1 ms as \"0 s\", the same text as 0 ms",
    ("placement.cpp", "return a.locality != b.locality ? a.locality <= b.locality : "
                      "a.vm->name < b.vm->name;"):
        "under the != guard, <= and < agree",
    ("rebalance.cpp", "Donor d{&vm, vm.guest_usable_bytes.value_or(0), Floor(vm, policy), 1, {}};"):
        "a blocked donor's cap is never read (Cover skips it first); an unblocked one's is "
        "recomputed",
    ("rebalance.cpp", "return need[a] != need[b] ? need[a] >= need[b] : "
                      "nodes[a].node->id < nodes[b].node->id;"):
        "under the != guard, >= and > agree",
    ("rebalance.cpp", "return need[a] != need[b] ? need[a] > need[b] : "
                      "nodes[a].node->id <= nodes[b].node->id;"):
        "node ids are unique, and stable_sort never compares an element with itself",
    ("rebalance.cpp", "grow = next <= grow ? next : grow - kMiB;"):
        "next < grow always: a failed draft has f < 1 (coverage <= 1 - 4 KiB / a node's first "
        "need, or bytes left / bytes), grow is MiB-aligned, so AlignDown(grow x f) <= grow - 1 MiB "
        "(f could round to 1 only with byte counts past 2^53, 8 PiB)",
    ("rebalance.cpp", "cands.push_back({&vm, 1, p.usable_ratio, p});"):
        "a rebalance candidate's share is never read",
    ("virtio_mem.cpp", "uint64_t block = 1;"):
        "block is only read through max(block, 1 MiB)",
    ("virtio_mem.cpp", "std::stable_sort(out.begin(), out.end(), "
                       "[](auto* a, auto* b) { return a->alias <= b->alias; });"):
        "it reorders only devices of equal alias, and libvirt's aliases are unique within a "
        "running domain (the controller's state is keyed by them too)",
    ("window.cpp", "while (obs_.size() > 0 && obs_.front().time < oldest_kept) {"):
        "the newest observation is never older than itself minus a keep of at least 2 minutes",
    ("window.cpp", "p.placement.enabled ? p.placement.sustain_for : model::Duration{1}});"):
        "an operand of a max that includes 2 minutes",
}


class Mutant:
    def __init__(self, path, line, kind, before, after):
        self.path, self.line, self.kind = path, line, kind
        self.before, self.after = before, after
        self.result = None

    def equivalent(self):
        return EQUIVALENT.get((self.path.name, self.after.strip()))

    def where(self):
        return f"{self.path.relative_to(ROOT)}:{self.line}"

    def describe(self):
        return f"{self.kind}: `{self.before.strip()}` → `{self.after.strip()}`"


def code_spans(line):
    """The parts of a line that are code: not a comment, not inside a string literal."""
    code = line.split("//", 1)[0]
    if code.lstrip().startswith(("#", "*", "/*")):
        return []
    spans, start = [], 0
    for m in STRING.finditer(code):
        spans.append((start, m.start()))
        start = m.end()
    spans.append((start, len(code)))
    return spans


def in_spans(pos, spans):
    return any(a <= pos < b for a, b in spans)


def bumped(m):
    whole, frac, suffix = m.group(1), m.group(2) or "", m.group(3)
    if frac:
        return f"{whole}{frac}1{suffix}"  # 0.5 → 0.51: a nearby threshold, still a double
    return f"{0 if whole == '1' else int(whole) + 1}{suffix}"


def mutants_of_line(path, n, line):
    spans = code_spans(line)
    if not spans:
        return []
    found = []
    for m in BINARY.finditer(line):
        if in_spans(m.start(), spans):
            op = m.group(1)
            kind = "swap logical" if op in LOGICAL else "flip comparison"
            new = (LOGICAL if op in LOGICAL else COMPARISONS)[op]
            found.append(Mutant(path, n, kind, line, line[: m.start()] + new + line[m.end():]))
    for m in NUMBER.finditer(line):
        if in_spans(m.start(), spans) and "[" not in line[max(0, m.start() - 1): m.start()]:
            found.append(Mutant(path, n, "change constant", line,
                                line[: m.start()] + bumped(m) + line[m.end():]))
    if GUARD.match(line) and line.count("(") == line.count(")"):
        indent = line[: len(line) - len(line.lstrip())]
        found.append(Mutant(path, n, "drop guard", line, indent + "// (guard dropped)\n"))
    return found


def all_mutants():
    found = []
    for path in sorted(POLICY.glob("*.cpp")):
        for n, line in enumerate(path.read_text().splitlines(keepends=True), 1):
            found.extend(mutants_of_line(path, n, line))
    return found


def run(cmd, timeout=None):
    return subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=timeout)


def require_clean_tree():
    status = run(["git", "status", "--porcelain", "--untracked-files=no"]).stdout.strip()
    if status:
        sys.exit("mutate-policy: the work tree has uncommitted changes; commit or stash them "
                 "first, so that restoring the policy sources can never lose work:\n" + status)


def build(build_dir):
    return run(["cmake", "--build", build_dir, "--target", "kvmem_unit_tests", "-j1"])


def test(build_dir):
    binary = pathlib.Path(build_dir) / "tests" / "kvmem_unit_tests"
    try:
        r = run([str(binary), f"--gtest_filter={TEST_FILTER}", "--gtest_brief=1"],
                timeout=TEST_TIMEOUT)
    except subprocess.TimeoutExpired:
        return "killed (timeout)"
    return "survived" if r.returncode == 0 else "killed"


def try_mutant(mutant, build_dir):
    original = mutant.path.read_text()
    lines = original.splitlines(keepends=True)
    assert lines[mutant.line - 1] == mutant.before, f"{mutant.where()} changed under us"
    lines[mutant.line - 1] = mutant.after
    try:
        mutant.path.write_text("".join(lines))
        if build(build_dir).returncode != 0:
            return "stillborn"
        return test(build_dir)
    finally:
        mutant.path.write_text(original)


def on_sigterm(signum, frame):
    raise KeyboardInterrupt  # unwinds through try_mutant's finally, which restores the file


def report(mutants, args, seconds):
    compiled = [m for m in mutants if m.result != "stillborn"]
    equivalent = [m for m in compiled if m.result == "survived" and m.equivalent()]
    counted = [m for m in compiled if m not in equivalent]
    killed = [m for m in counted if m.result.startswith("killed")]
    survivors = [m for m in counted if m.result == "survived"]
    score = 100.0 * len(killed) / len(counted) if counted else 0.0
    cmd = f"scripts/mutate-policy.py --sample {args.sample} --seed {args.seed}"
    if args.write:
        cmd += f" --write {args.write}"
    out = [BEGIN,
           f"Written by `{cmd}` in {seconds:.0f} s; "
           f"tests run: `kvmem_unit_tests --gtest_filter='{TEST_FILTER}'`.",
           "",
           f"**{len(killed)}/{len(counted)} mutants killed ({score:.1f} %)**; "
           f"{len(mutants) - len(compiled)} did not compile and {len(equivalent)} are equivalent "
           f"(listed below); neither is counted. Without that list: {len(killed)}/{len(compiled)}.",
           ""]
    if survivors:
        out += ["| surviving mutant | mutation |", "|---|---|"]
        out += [f"| `{m.where()}` | {m.describe().replace('|', '&#124;')} |" for m in survivors]
    else:
        out.append("No mutant survived.")
    if equivalent:
        out += ["", "| equivalent mutant | mutation | why no test can kill it |", "|---|---|---|"]
        out += [f"| `{m.where()}` | {m.describe().replace('|', '&#124;')} | {m.equivalent()} |"
                for m in equivalent]
    out.append(END)
    return "\n".join(out) + "\n", score


def write_section(path, section):
    text = path.read_text()
    if BEGIN not in text or END not in text:
        sys.exit(f"mutate-policy: {path} has no {BEGIN} … {END} section to replace")
    head, rest = text.split(BEGIN, 1)
    tail = rest.split(END, 1)[1].lstrip("\n")
    path.write_text(head + section + tail)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sample", type=int, default=60, help="how many mutants (0: all)")
    ap.add_argument("--seed", type=int, default=15)
    ap.add_argument("--build", default="build", help="a configured build directory")
    ap.add_argument("--write", type=pathlib.Path, help="markdown file whose section to replace")
    ap.add_argument("--list", action="store_true", help="print the sampled mutants and stop")
    args = ap.parse_args()

    mutants = all_mutants()
    if 0 < args.sample < len(mutants):
        mutants = random.Random(args.seed).sample(mutants, args.sample)
        mutants.sort(key=lambda m: (str(m.path), m.line, m.kind, m.after))
    if args.list:
        for m in mutants:
            print(f"{m.where()}  {m.describe()}")
        return 0
    require_clean_tree()
    # ccache makes each restore's rebuild a cache hit; the base dir lets other clones share it.
    os.environ.update({"CCACHE_BASEDIR": str(ROOT), "CCACHE_NOHASHDIR": "true"})
    signal.signal(signal.SIGTERM, on_sigterm)
    start = time.monotonic()
    if build(args.build).returncode != 0 or test(args.build) != "survived":
        sys.exit("mutate-policy: the unmutated build or its policy tests fail; fix that first")
    try:
        for i, m in enumerate(mutants, 1):
            m.result = try_mutant(m, args.build)
            print(f"[{i}/{len(mutants)}] {m.result:16} {m.where()}  {m.describe()}", flush=True)
    finally:
        build(args.build)  # leaves the binary built from the restored sources
    section, score = report(mutants, args, time.monotonic() - start)
    print(section)
    if args.write:
        write_section(args.write, section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
