"""Suite-wide pytest settings.

Odoo skips a browser tour when Chromium or websocket-client is missing and the
run still looks green: here any skipped test fails the run instead.
"""

import pytest


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.skipped and call.when in ("setup", "call"):
        report.outcome = "failed"
        report.longrepr = (
            f"skipped, which this suite does not allow: {call.excinfo.value}"
        )
