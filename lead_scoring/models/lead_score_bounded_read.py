# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Reads of the score views within bounds.

The breakdown and the history are views over the whole ledger: a call
without a limit (search_read over the external API, a grouping by contact)
would make PostgreSQL read millions of lines and Odoo send them all. Each
call returns at most MAX_READ_LINES lines or groups, and refuses, with a
message, to return more (a client pages with limit and offset, as the web
client does, 80 at a time); each of its statements runs within a timeout.
"""

from contextlib import contextmanager

from psycopg2 import OperationalError, errorcodes

from odoo import _, api, models
from odoo.exceptions import UserError
from odoo.tools import mute_logger

from ..tools import local_setting

# Lines (or groups) one call may return: the web client asks for 80 at a
# time, a contact's history holds one line per day its score changed.
MAX_READ_LINES = 20_000
# Seconds a read's statement may run (system parameter
# lead_scoring.read_timeout), within the rules' own timeout.
READ_TIMEOUT = 30


@contextmanager
def bounded_statements(model):
    """Run these statements within the read timeout, in a savepoint that a
    cancelled one rolls back; a cancelled statement raises a UserError."""
    env = model.env
    timeout = min(
        env["lead.score.engine"]._statement_timeout(),
        max(
            1,
            int(
                1000
                * float(
                    env["ir.config_parameter"]
                    .sudo()
                    .get_param("lead_scoring.read_timeout", READ_TIMEOUT)
                )
            ),
        ),
    )
    try:
        with (
            mute_logger("odoo.sql_db"),
            env.cr.savepoint(),
            local_setting(env.cr, "statement_timeout", timeout),
        ):
            yield
    except OperationalError as error:
        if error.pgcode != errorcodes.QUERY_CANCELED:
            raise
        raise UserError(
            _(
                "Reading %(model)s took too long: narrow the search (a contact, "
                "a period).",
                model=model._description,
            )
        ) from None


def too_many(model):
    return UserError(
        _(
            "More than %(max)s lines of %(model)s asked for at once: narrow the "
            "search or read them in pages (limit and offset).",
            max=MAX_READ_LINES,
            model=model._description,
        )
    )


def bounded_limit(limit):
    """The limit to ask for: at most one more line than the cap, to tell
    whether there are more."""
    if limit is None or limit is False or limit > MAX_READ_LINES:
        return MAX_READ_LINES + 1
    return limit


class BoundedReadMixin(models.AbstractModel):
    _name = "lead.score.bounded.read"
    _description = "Lead Score Bounded Read"

    @api.model
    def search_fetch(self, domain, field_names, offset=0, limit=None, order=None):
        with bounded_statements(self):
            records = super().search_fetch(
                domain, field_names, offset, bounded_limit(limit), order
            )
        if len(records) > MAX_READ_LINES:
            raise too_many(self)
        return records

    @api.model
    def search_count(self, domain, limit=None):
        with bounded_statements(self):
            return super().search_count(domain, limit=limit)

    @api.model
    def _read_group(
        self,
        domain,
        groupby=(),
        aggregates=(),
        having=(),
        offset=0,
        limit=None,
        order=None,
    ):
        with bounded_statements(self):
            groups = super()._read_group(
                domain,
                groupby,
                aggregates,
                having,
                offset,
                bounded_limit(limit),
                order,
            )
        if len(groups) > MAX_READ_LINES:
            raise too_many(self)
        return groups

    def read(self, fields=None, load="_classic_read"):
        if len(self) > MAX_READ_LINES:
            raise too_many(self)
        with bounded_statements(self):
            return super().read(fields, load)


class LeadScoreHistory(models.Model):
    _name = "lead.score.history"
    _inherit = ["lead.score.history", "lead.score.bounded.read"]


class LeadScoreBreakdown(models.Model):
    _name = "lead.score.breakdown"
    _inherit = ["lead.score.breakdown", "lead.score.bounded.read"]
