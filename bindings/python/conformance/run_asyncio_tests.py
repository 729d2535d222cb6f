"""Runs modules of CPython's own test.test_asyncio on an event loop chosen
by name, and prints one JSON line of what passed, failed and was skipped.

    python3 run_asyncio_tests.py LOOP MODULE [--verbose] [--only=ID,ID...]

LOOP is ``asyncio`` (the interpreter's default loop, untouched), ``uvloop``
or ``libasync``. For the latter two the loop is installed through its event
loop policy (asyncio.run, asyncio.new_event_loop and the tests' own
set-ups then make it), and asyncio.SelectorEventLoop is made to return it
too, since test_events and others build their loops with
``asyncio.SelectorEventLoop(selector)``: that is how the loop-level tests
reach the loop under test. Tests that construct asyncio's base classes or
its fake-time TestLoop test asyncio itself, and count the same for every
LOOP. MODULE is a name inside test.test_asyncio (test_events).
"""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import signal
import sys
import time
import unittest
from typing import Dict, List

LOOPS = ("asyncio", "libasync", "uvloop")


def install(name: str) -> None:
    if name == "asyncio":
        return
    if name == "uvloop":
        import uvloop
        policy, factory = uvloop.EventLoopPolicy, uvloop.new_event_loop
    else:
        sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        import libasync
        policy, factory = libasync.EventLoopPolicy, libasync.new_event_loop

    def selector_event_loop(selector: object = None) -> asyncio.AbstractEventLoop:
        return factory()

    if name == "uvloop":
        # asyncio's test helper closes loops by reading BaseEventLoop's
        # _default_executor, which uvloop's loop does not have.
        from test.test_asyncio import utils as test_utils
        close = test_utils.TestCase.close_loop

        class WithoutExecutor:
            _default_executor = None

            def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
                self._loop = loop

            def __getattr__(self, attr: str) -> object:
                return getattr(self._loop, attr)

        def close_loop(loop: asyncio.AbstractEventLoop) -> None:
            if not hasattr(loop, "_default_executor"):
                if not loop.is_closed():
                    loop.run_until_complete(loop.shutdown_default_executor())
                loop = WithoutExecutor(loop)  # type: ignore[assignment]
            close(loop)

        test_utils.TestCase.close_loop = staticmethod(close_loop)  # type: ignore[assignment]

    asyncio.set_event_loop_policy(policy())
    asyncio.SelectorEventLoop = selector_event_loop  # type: ignore[misc, assignment]
    # Modules that tear down with set_event_loop_policy(None) get the
    # loop under test back for the next one.
    asyncio.events._init_event_loop_policy = lambda: asyncio.set_event_loop_policy(policy())  # type: ignore


# A test still running after this long fails (with a TimeoutError raised in
# it), so that one hang costs one test, not its module.
TEST_TIMEOUT = 60.0


def _timed_out(signum: int, frame: object) -> None:
    raise TimeoutError(f"the test ran for more than {TEST_TIMEOUT:.0f} s")


class Result(unittest.TextTestResult):
    """Counts outcomes by test id; unexpected successes count as failures."""

    def startTest(self, test: unittest.TestCase) -> None:
        signal.signal(signal.SIGALRM, _timed_out)
        signal.setitimer(signal.ITIMER_REAL, TEST_TIMEOUT)
        super().startTest(test)

    def stopTest(self, test: unittest.TestCase) -> None:
        signal.setitimer(signal.ITIMER_REAL, 0)
        super().stopTest(test)

    def __init__(self, *a: object, **kw: object) -> None:
        super().__init__(*a, **kw)  # type: ignore[arg-type]
        self.outcomes: Dict[str, List[str]] = {"passed": [], "failed": [], "skipped": []}
        self.reasons: Dict[str, str] = {}

    def addSuccess(self, test: unittest.TestCase) -> None:
        super().addSuccess(test)
        self.outcomes["passed"].append(test.id())

    def _failed(self, test: unittest.TestCase, err: object) -> None:
        self.outcomes["failed"].append(test.id())
        exc = err[1] if isinstance(err, tuple) else None
        self.reasons[test.id()] = f"{type(exc).__name__}: {exc}".splitlines()[0][:200] if exc else "failed"

    def addFailure(self, test: unittest.TestCase, err: object) -> None:
        super().addFailure(test, err)  # type: ignore[arg-type]
        self._failed(test, err)

    def addError(self, test: unittest.TestCase, err: object) -> None:
        super().addError(test, err)  # type: ignore[arg-type]
        self._failed(test, err)

    def addSkip(self, test: unittest.TestCase, reason: str) -> None:
        super().addSkip(test, reason)
        self.outcomes["skipped"].append(test.id())

    def addExpectedFailure(self, test: unittest.TestCase, err: object) -> None:
        super().addExpectedFailure(test, err)  # type: ignore[arg-type]
        self.outcomes["passed"].append(test.id())

    def addUnexpectedSuccess(self, test: unittest.TestCase) -> None:
        super().addUnexpectedSuccess(test)
        self.outcomes["failed"].append(test.id())
        self.reasons[test.id()] = "unexpected success"


def iterate(suite: unittest.TestSuite) -> "list[unittest.TestCase]":
    """The test cases of a suite, flattened."""
    out = []
    for t in suite:
        out.extend(iterate(t) if isinstance(t, unittest.TestSuite) else [t])
    return out


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if len(args) != 2 or args[0] not in LOOPS:
        sys.exit(__doc__)
    loop, module = args
    install(loop)
    suite = unittest.defaultTestLoader.loadTestsFromModule(importlib.import_module(f"test.test_asyncio.{module}"))
    only = next((a.split("=", 1)[1].split(",") for a in sys.argv if a.startswith("--only=")), None)
    if only:
        suite = unittest.TestSuite(t for t in iterate(suite) if t.id() in only)
    verbosity = 2 if "--verbose" in sys.argv else 0
    start = time.monotonic()
    with open(os.devnull, "w") as quiet:
        runner = unittest.TextTestRunner(stream=sys.stderr if verbosity else quiet, verbosity=verbosity,
                                         resultclass=Result)
        result = runner.run(suite)
    out = {k: len(v) for k, v in result.outcomes.items()}  # type: ignore[attr-defined]
    out.update(loop=loop, module=module, seconds=round(time.monotonic() - start, 1),
               python=sys.version.split()[0], failures=result.reasons)  # type: ignore[attr-defined]
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
