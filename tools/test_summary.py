#!/usr/bin/python3
"""Prints `tests: N passed, M failed` from one `bazel test` invocation.

Counts come from this invocation's Build Event Protocol file and the test.xml
of each test target in it (GoogleTest writes one <testcase> per TEST), never
from stale bazel-testlogs. A target that did not build or produced no XML
counts as one failure; a passing target without cases counts as one pass.
Exit status is non-zero on any failure or when bazel itself failed.
"""
import argparse
import json
import sys
import xml.etree.ElementTree as ET


def xml_counts(result):
    passed = failed = 0
    for out in result.get("testActionOutput", []):
        if out.get("name") != "test.xml":
            continue
        root = ET.parse(out["uri"].replace("file://", "", 1)).getroot()
        for case in root.iter("testcase"):
            if case.find("failure") is not None or case.find("error") is not None:
                failed += 1
            elif case.get("status", "run") == "run" and case.find("skipped") is None:
                passed += 1
    return passed, failed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bep", required=True)
    ap.add_argument("--bazel-rc", type=int, default=0)
    ap.add_argument("--extra", action="append", default=[],
                    help="name=pass|fail for a check run outside bazel")
    ap.add_argument("targets", nargs="*")
    args = ap.parse_args()

    results, summaries = {}, {}
    try:
        with open(args.bep) as f:
            for line in f:
                ev = json.loads(line)
                i = ev.get("id", {})
                if "testResult" in i:
                    r = i["testResult"]
                    key = (r["label"], r.get("run", 1), r.get("shard", 1))
                    results[key] = ev.get("testResult", {})
                elif "testSummary" in i:
                    summaries[i["testSummary"]["label"]] = (
                        ev.get("testSummary", {}).get("overallStatus", "NO_STATUS"))
    except (OSError, json.JSONDecodeError) as e:
        print(f"test_summary: cannot read BEP file: {e}", file=sys.stderr)

    passed = failed = 0
    failures = []
    for label in sorted(set(args.targets) | set(summaries)):
        status = summaries.get(label, "NO_STATUS")
        p = f = 0
        for key, res in results.items():
            if key[0] == label:
                try:
                    a, b = xml_counts(res)
                except (OSError, ET.ParseError):
                    a, b = 0, 0
                p += a
                f += b
        if status in ("PASSED", "FLAKY"):
            passed += max(p, 1) if f == 0 else p
            failed += f
        else:
            passed += p
            failed += max(f, 1)
            failures.append(f"{label} ({status})")
    for extra in args.extra:
        name, _, outcome = extra.partition("=")
        if outcome == "pass":
            passed += 1
        else:
            failed += 1
            failures.append(name)
    if args.bazel_rc != 0 and failed == 0:
        failed = 1
        failures.append(f"bazel exited with {args.bazel_rc}")
    for f in failures:
        print(f"FAILED: {f}")
    print(f"tests: {passed} passed, {failed} failed")
    return 1 if (failed or args.bazel_rc) else 0


if __name__ == "__main__":
    sys.exit(main())
