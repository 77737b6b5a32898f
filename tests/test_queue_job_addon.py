"""lead_scoring_queue_job changes how every run goes (jobs instead of the
scheduler's chunks), so it is tested on a database of its own, where it is
installed as it is in production: by itself, next to queue_job."""

import os
import re

from .test_lifecycle import Database, assert_clean


def test_queue_job_glue_installs_by_itself_and_its_tests_pass():
    prefix = os.environ.get("LEAD_SCORING_TEST_DB", "lead_scoring")
    db = Database(f"{prefix}_queue_job_tests")
    db.drop()
    db.odoo("dependencies", "-i", "lead_scoring", "--without-demo=all")
    log = db.odoo("install", "-i", "queue_job", "--without-demo=all")
    assert "lead_scoring_queue_job" in log, "the glue was not installed with queue_job"
    log = db.odoo(
        "tests", "-u", "lead_scoring_queue_job", "--test-tags=/lead_scoring_queue_job"
    )
    assert_clean(log, "The queue_job glue's tests")
    ran = re.search(r"(\d+) failed, (\d+) error\(s\) of (\d+) tests", log)
    assert ran, log[-3000:]
    failed, errors, total = map(int, ran.groups())
    assert (failed, errors) == (0, 0) and total >= 3, ran.group(0)
    db.drop()
