#!/usr/bin/env python3
"""Run one integration module; print unittest output and a RESULT line."""
import sys
import unittest

mod = sys.argv[1]
suite = unittest.defaultTestLoader.loadTestsFromName(mod)
res = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(suite)
bad = len(res.failures) + len(res.errors) + len(res.unexpectedSuccesses)
skipped = len(res.skipped)
passed = max(0, res.testsRun - bad - skipped)
print(f"RESULT passed={passed} failed={bad} skipped={skipped}")
sys.exit(0)
