#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""count-tests.py TESTLOG.json LABEL: print "LABEL: N passed, N failed, N
skipped" over the TAP subtests of a meson test run.  A suite that failed
without a failing subtest (a crash, a timeout) counts as one failure."""
import json
import re
import sys

passed = failed = skipped = 0
with open(sys.argv[1]) as log:
    for line in log:
        test = json.loads(line)
        out = test.get('stdout') or ''
        ok = len(re.findall(r'^ok \d+(?! .*# SKIP)', out, re.M))
        skip = len(re.findall(r'^ok \d+ .*# SKIP', out, re.M))
        bad = len(re.findall(r'^not ok \d+', out, re.M))
        if test['result'] not in ('OK', 'SKIP', 'EXPECTEDFAIL') and not bad:
            bad = 1
        passed += ok
        skipped += skip
        failed += bad
print(f'{sys.argv[2]}: {passed} passed, {failed} failed, {skipped} skipped')
