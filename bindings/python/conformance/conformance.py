"""CPython's test.test_asyncio selection on event loops side by side.

    python3 conformance.py [--loops asyncio,uvloop,libasync] [--markdown FILE] [--timeout S]
    python3 conformance.py --check        # the CI leg: libasync only

Each module runs in a process of its own (run_asyncio_tests.py), bounded by
--timeout seconds (a module that hangs counts as failed whole). A test that
fails is run once more alone: one that then passes is reported as flaky,
not failed (the machines are shared and some of asyncio's tests time
things). --check exits 1 when libasync fails a test that KNOWN_FAILURES
does not name with its reason, and prints "N passed, N failed".
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Dict, List, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
MODULES = ["test_events", "test_streams", "test_server", "test_sock_lowlevel", "test_base_events",
           "test_protocols", "test_transports", "test_tasks", "test_taskgroups", "test_timeouts", "test_futures"]

# Tests libasync.EventLoop fails, each with why (see BENCHMARKS.md, CONFORMANCE).
KNOWN_FAILURES: Dict[str, str] = {}


def run(loop: str, module: str, timeout: float, only: Optional[List[str]] = None) -> dict:
    cmd = [sys.executable, os.path.join(HERE, "run_asyncio_tests.py"), loop, module]
    if only:
        cmd.append("--only=" + ",".join(only))
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"loop": loop, "module": module, "passed": 0, "failed": 1, "skipped": 0,
                "failures": {module: f"the module did not finish in {timeout:.0f} s"}}
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith("{")]
    if not lines:
        why = (p.stderr.strip().splitlines() or ["no output"])[-1]
        return {"loop": loop, "module": module, "passed": 0, "failed": 1, "skipped": 0,
                "failures": {module: f"the module did not run: {why}"}}
    return json.loads(lines[-1])


def run_module(loop: str, module: str, timeout: float) -> dict:
    r = run(loop, module, timeout)
    failed = [t for t in r["failures"] if t != module]
    r["flaky"] = []
    if failed:
        again = run(loop, module, timeout, only=failed)
        for t in failed:
            if t not in again["failures"]:
                r["flaky"].append(t)
                del r["failures"][t]
                r["failed"] -= 1
                r["passed"] += 1
    return r


def main() -> None:
    argv = sys.argv[1:]
    opt = {a.split("=", 1)[0]: (a.split("=", 1) + [""])[1] for a in argv}
    check = "--check" in opt
    loops = ["libasync"] if check else (opt.get("--loops") or "asyncio,uvloop,libasync").split(",")
    timeout = float(opt.get("--timeout") or 300)
    results: Dict[str, Dict[str, dict]] = {}
    for loop in loops:
        for module in MODULES:
            r = run_module(loop, module, timeout)
            results.setdefault(loop, {})[module] = r
            print(f"{loop:9} {module:20} passed {r['passed']:4}  failed {r['failed']:3}  skipped {r['skipped']:3}"
                  + (f"  flaky {len(r['flaky'])}" if r["flaky"] else ""), flush=True)
            for t, why in r["failures"].items():
                print(f"    FAIL {t}: {why}" + ("" if t in KNOWN_FAILURES else "  (not a known failure)"))
    if opt.get("--markdown"):
        write_markdown(opt["--markdown"], loops, results)
    if check:
        rs = results["libasync"].values()
        unknown = [t for r in rs for t in r["failures"] if t not in KNOWN_FAILURES]
        print(f"{sum(r['passed'] for r in rs)} passed, {sum(r['failed'] for r in rs)} failed, "
              f"{sum(r['skipped'] for r in rs)} skipped")
        sys.exit(1 if unknown else 0)


def write_markdown(path: str, loops: List[str], results: Dict[str, Dict[str, dict]]) -> None:
    head = "| module | " + " | ".join(f"{lp} passed / failed / skipped" for lp in loops) + " |"
    rows = [head, "|---|" + "---|" * len(loops)]
    totals = {lp: [0, 0, 0] for lp in loops}
    for m in MODULES:
        cells = []
        for lp in loops:
            r = results[lp][m]
            cells.append(f"{r['passed']} / {r['failed']} / {r['skipped']}")
            for i, k in enumerate(("passed", "failed", "skipped")):
                totals[lp][i] += r[k]
        rows.append(f"| {m} | " + " | ".join(cells) + " |")
    rows.append("| **all** | " + " | ".join(" / ".join(map(str, totals[lp])) for lp in loops) + " |")
    failures = [f"- {lp}: `{t}`: {why}" for lp in loops for r in results[lp].values() for t, why in r["failures"].items()]
    flaky = [f"- {lp}: `{t}`" for lp in loops for r in results[lp].values() for t in r["flaky"]]
    with open(path, "w") as f:
        f.write("\n".join(rows) + "\n\nFailures:\n\n" + ("\n".join(failures) or "none") + "\n")
        if flaky:
            f.write("\nFailed once, passed when run again alone (flaky):\n\n" + "\n".join(flaky) + "\n")


if __name__ == "__main__":
    main()
