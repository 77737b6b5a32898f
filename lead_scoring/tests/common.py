import importlib.util
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from unittest.mock import patch

from odoo import api, fields
from odoo.modules.module import get_module_path
from odoo.modules.registry import Registry
from odoo.tests import new_test_user
from odoo.tests.common import BaseCase, TransactionCase, get_db_name


def patch_engine(test, **values):
    """Set the engine's constants (chunk sizes, batch sizes, timeouts) for
    this test, in the engine module that defines each."""
    from ..engine import control, decay, recompute, retention, rule_run, score_refresh
    from ..models import lead_score_rule_query

    modules = (
        rule_run,
        score_refresh,
        lead_score_rule_query,
        control,
        recompute,
        decay,
        retention,
    )
    for name, value in values.items():
        module = next(module for module in modules if hasattr(module, name))
        patcher = patch.object(module, name, value)
        patcher.start()
        test.addCleanup(patcher.stop)


def load_migration(addon, version, script="post-migrate.py"):
    """The module of one of ``addon``'s migration scripts, to run its
    ``migrate`` on a database put back as the previous version left it."""
    path = Path(get_module_path(addon)) / "migrations" / version / script
    name = f"{addon}_{version}_{Path(script).stem}".replace(".", "_").replace("-", "_")
    spec = importlib.util.spec_from_file_location(name, path)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    return migration


@contextmanager
def spying_set_based_writes(env):
    """The score writer's one UPDATE per batch (set-based, not through the
    ORM), done as usual and recorded: each call's ``args[1]`` holds the
    contacts it wrote."""
    Writer = type(env["lead.score.writer"])
    with patch.object(
        Writer,
        "_write_lead_scores",
        autospec=True,
        side_effect=Writer._write_lead_scores,
    ) as spy:
        yield spy


class LeadScoringCase(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.Operation = cls.env["lead.score.operation"]
        cls.Rule = cls.env["lead.score.rule"]
        cls.Tier = cls.env["lead.score.tier"]
        # Start from a known state: no demo rules or tiers interfere.
        cls.Rule.with_context(active_test=False).search([]).write({"active": False})
        cls.Tier.search([]).unlink()
        cls.partner = cls.env["res.partner"].create(
            {"name": "Ada Lovelace", "email": "ada@example.com"}
        )
        cls.user = new_test_user(
            cls.env,
            "ls_user",
            groups="base.group_user,lead_scoring.group_lead_scoring_user",
        )
        cls.manager = new_test_user(
            cls.env,
            "ls_manager",
            groups="base.group_user,lead_scoring.group_lead_scoring_manager",
        )
        cls.internal = new_test_user(cls.env, "ls_internal", groups="base.group_user")

    def rule(self, **vals):
        """A scoring rule: by default, 10 points added once to every contact."""
        return self.Rule.create(
            {
                "name": "Rule",
                "operation": "add",
                "value": 10,
                "match_all": not vals.get("domain"),
                **vals,
            }
        )

    def run_rules(self):
        """One run of every active rule by the run service, in the test's
        transaction; the contacts that got lines."""
        return self.env["lead.score.run"]._run_rules(self.Rule.search([]))

    def add(self, partner, operation, value, days_ago=0, **vals):
        """One operation, dated days_ago in the past."""
        date = fields.Datetime.now() - timedelta(days=days_ago)
        vals = {"source": "api", **vals}
        # Lines of the engine and the addons (rules, forms ...) as they record them.
        operations = (
            self.Operation if vals["source"] == "api" else self.Operation._engine()
        )
        return operations.create(
            dict(
                partner_id=partner.id,
                operation=operation,
                value=value,
                date=date,
                **vals,
            )
        )

    def as_if_written_later(self, records):
        """A test is one transaction; give these records the write_date of a
        later one, as a person's edit after the run would have."""
        self.env.flush_all()
        self.env.cr.execute(
            f'UPDATE "{records._table}" SET write_date ='
            " clock_timestamp() AT TIME ZONE 'UTC' WHERE id = ANY(%s)",
            [records.ids],
        )
        records.invalidate_recordset(["write_date"])

    def balances(self, partner):
        """(operation, value, balance) in date order."""
        operations = self.Operation.search(
            [("partner_id", "=", partner.id)], order="date, id"
        )
        return [(op.operation, op.value, op.balance) for op in operations]


class LiveCursorCase(BaseCase):
    """Tests of jobs on a live database: each transaction its own committed
    cursor, as Odoo's cron runner and requests have; a test cleans up what
    it committed."""

    def setUp(self):
        super().setUp()
        self.registry = Registry(get_db_name())

    @contextmanager
    def env_cursor(self):
        """A superuser environment on a new cursor, committed when the block
        ends without an error, rolled back otherwise."""
        with self.registry.cursor() as cr:
            yield api.Environment(cr, api.SUPERUSER_ID, {})

    def clear_triggers(self):
        with self.env_cursor() as env:
            env.cr.execute(
                "DELETE FROM ir_cron_trigger WHERE cron_id = %s", [self.cron_id]
            )

    def triggers(self):
        with self.env_cursor() as env:
            env.cr.execute(
                "SELECT count(*) FROM ir_cron_trigger WHERE cron_id = %s",
                [self.cron_id],
            )
            return env.cr.fetchone()[0]
