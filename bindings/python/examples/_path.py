"""Lets the examples run from a checkout without installing the package:
the package folder (bindings/python) goes on sys.path when libasync is not
importable otherwise."""

import os
import sys

try:
    import libasync  # noqa: F401
except ImportError:
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
