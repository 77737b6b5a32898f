# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Rule runs as queue jobs: each chunk of a rule's run is a job on the
``lead_scoring`` channel, and the next chunk is queued by the one before, so
several job workers (on one or many servers) run different rules at once.

The scheduled job only starts runs and queues their chunks. A chunk's job
records its lines in queue_job's one transaction, which takes no lock on the
contacts. Once every rule's chain has ended, the run's contacts are refreshed
by jobs of a batch each, every contact once; a serialization failure (someone
saved one of a batch's contacts) makes queue_job try that batch again a few
seconds later. The jobs themselves are methods of the rules
(lead_score_rule.py): queue_job keeps a job's model, records and method.
"""

from odoo import _, api, models

from odoo.addons.queue_job.job import identity_exact

CHANNEL = "root.lead_scoring"


class LeadScoreRun(models.AbstractModel):
    _inherit = "lead.score.run"

    @api.model
    def _apply_rules_in_chunks(self):
        rules = self.env["lead.score.rule"].sudo().search([])
        # One starter at a time; the chunks themselves lock their rule.
        if not self.env["lead.score.engine"]._try_lock(commit=False):
            return
        if not rules.filtered("pass_date"):
            if self.env["lead.score.refresh"]._refresh_pending(rules):
                # The last chains ended together, each seeing the other
                # still running: nobody queued the run's refresh.
                self._queue_run_refresh(rules)
            self._start_run(rules)
        for rule in rules.filtered("pass_date"):
            self._queue_next_chunk(rule)

    @api.model
    def _queue_next_chunk(self, rule):
        rule.ensure_one()
        rule.with_delay(
            channel=CHANNEL,
            identity_key=identity_exact,
            description=_("Lead scoring: %s", rule.name),
        )._job_run_chunk()

    @api.model
    def _run_queued_chunk(self, rule):
        """One chunk of ``rule``'s run, then the next one is queued."""
        rule.ensure_one()
        engine = self.env["lead.score.engine"]
        if not rule.active or not rule.pass_date or not engine._try_lock_rule(rule.id):
            return False
        # As a round of the scheduled job does: a plan made for a ledger a
        # fraction of its size can hold a repeating rule's chunk past the
        # worker's time limit.
        engine._analyze_stale_ledger()
        with self._sizing_next_chunk(rule), engine._chunk_settings():
            # Chunks of several rules run at once here, often over the same
            # contacts: writing their score rows would make them refuse each
            # other; the refresh jobs replay every contact's ledger instead.
            self._run_chunk(rule, touch=False)
        if rule.pass_date:
            self._queue_next_chunk(rule)
        elif not rule.search_count([("pass_date", "!=", False)]):
            self._queue_run_refresh(rule.search([]))
        return True

    @api.model
    def _queue_run_refresh(self, rules):
        """End the run: the scores of the contacts it gave lines, each once,
        refreshed by jobs of _refresh_chunk() contacts. A job's one transaction
        cannot commit lines and then lock contacts apart, and a batch that
        meets someone saving a contact is retried alone, by queue_job."""
        refresh = self.env["lead.score.refresh"]
        run_date = refresh._refresh_pending(rules)
        ledger = self.env["lead.score.ledger"].sudo()
        # Not "cursor": Odoo's _() takes a local of that name for the database's.
        last_id = 0
        size = refresh._refresh_chunk(replay=True)
        engine_since = refresh._engine_since(rules)
        while run_date and (batch := ledger._contacts_dated(run_date, last_id, size)):
            rules.with_delay(
                channel=CHANNEL, description=_("Lead scoring: scores")
            )._job_refresh_scores(batch, engine_since)
            last_id = batch[-1]
        self._end_run(rules)
