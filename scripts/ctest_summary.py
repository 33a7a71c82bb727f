#!/usr/bin/env python3
"""Reads ctest's JUnit report (ctest --output-junit) and prints the run's outcome as
"N passed, N failed, N skipped", the line CI tooling reads. ctest exits 0 when a test is
"Not Run" (exit 77, GTEST_SKIP), so a skip would pass unseen: in strict mode (CI=true or
KVMEM_NO_SKIP=1) every skipped test that is not on the allowlist fails the run.

Usage: ctest_summary.py JUNIT_XML [ALLOWLIST]
Allowlist lines: "<ctest name>  <the condition that makes it impossible here>"; '#' starts a
comment. An entry without a condition is rejected, so each exception stays explained.
Exit: 0, or 1 when a test failed or (strict) skipped outside the allowlist, 2 on bad input.
"""
import os
import sys
import xml.etree.ElementTree as ET


def load_allowlist(path):
    allowed = {}
    if not path:
        return allowed
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            name, _, condition = line.partition(" ")
            if not condition.strip():
                sys.exit(f"{path}:{number}: '{name}' has no condition; say why it cannot run here")
            allowed[name] = condition.strip()
    return allowed


def skip_reason(case):
    """The test's own last word on why (a 'skip:' line, gtest's message), else ctest's."""
    out = (case.findtext("system-out") or "").splitlines()
    said = [l.strip() for l in out if "skip" in l.lower()]
    if said:
        return said[-1][:200]
    node = case.find("skipped")
    return node.get("message", "") if node is not None else ""


def strict_mode():
    return os.environ.get("CI", "").lower() == "true" or os.environ.get("KVMEM_NO_SKIP", "") == "1"


def main(argv):
    if len(argv) not in (2, 3):
        sys.exit(__doc__)
    try:
        cases = ET.parse(argv[1]).getroot().iter("testcase")
    except (OSError, ET.ParseError) as e:
        print(f"ctest_summary: cannot read {argv[1]}: {e}", file=sys.stderr)
        return 2
    allowed = load_allowlist(argv[2] if len(argv) == 3 else None)
    passed, failed, skipped = [], [], []
    for case in cases:
        status = case.get("status")
        name = case.get("name")
        if status == "run":
            passed.append(name)
        elif status in ("notrun", "disabled"):
            skipped.append((name, skip_reason(case)))
        else:
            failed.append(name)
    for name in failed:
        print(f"FAILED  {name}")
    unexpected = []
    for name, reason in skipped:
        if name in allowed:
            print(f"SKIPPED {name} (allowlisted: {allowed[name]})")
        else:
            print(f"SKIPPED {name}: {reason}")
            unexpected.append(name)
    print(f"{len(passed)} passed, {len(failed)} failed, {len(skipped)} skipped")
    if unexpected and strict_mode():
        print(f"ctest_summary: {len(unexpected)} test(s) skipped outside {argv[2] if len(argv) == 3 else 'the allowlist'}"
              " (CI=true or KVMEM_NO_SKIP=1): a skip is a failure here", file=sys.stderr)
        return 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
