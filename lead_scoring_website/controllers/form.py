# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import json
import logging

from psycopg2 import IntegrityError

from odoo.http import request
from odoo.service.model import PG_CONCURRENCY_EXCEPTIONS_TO_RETRY

from odoo.addons.website.controllers import form

from ..tools import TOKEN_FIELD, verify_form_token

_logger = logging.getLogger(__name__)


class WebsiteForm(form.WebsiteForm):
    def _handle_website_form(self, model_name, **kwargs):
        # Out of the posted values, or extract_data would store it as a custom
        # field of the record.
        token = kwargs.pop(TOKEN_FIELD, None)
        request.params.pop(TOKEN_FIELD, None)
        try:
            setting = self._lead_scoring_setting(model_name, token)
        except Exception:
            # Scoring is a bonus: a token it cannot read never costs the
            # submission.
            _logger.exception("Lead scoring: unreadable form token")
            setting = None
        response = super()._handle_website_form(model_name, **kwargs)
        if setting:
            record_id = self._lead_scoring_record_id(response)
            if record_id:
                self._lead_scoring_apply(setting, model_name, record_id)
        return response

    def _lead_scoring_setting(self, model_name, token):
        """The active setting this signed form uses on this website, if any."""
        env_sudo = request.env(su=True)
        setting_id = token and verify_form_token(env_sudo, token, model_name)
        if not setting_id:
            return env_sudo["lead.score.form.setting"]
        return env_sudo["lead.score.form.setting"].search(
            [
                ("id", "=", setting_id),
                ("website_id", "=", request.website.id),
                ("model_name", "=", model_name),
            ]
        )

    def _lead_scoring_count_address(self):
        """Count this anonymous submission against its network address; False
        past the address's hourly limit."""
        address = request.httprequest.remote_addr
        return request.env["lead.score.form.ip"].sudo()._count_submission(address)

    def _lead_scoring_hold(self, setting, record, submitted):
        """Keep the submission's scoring for later (see lead.score.form.held)."""
        address = request.httprequest.remote_addr
        return (
            request.env["lead.score.form.held"]
            .sudo()
            ._hold(setting, record, submitted, address)
        )

    def _lead_scoring_record_id(self, response):
        try:
            result = json.loads(response)
        except (TypeError, ValueError):
            return False
        record_id = isinstance(result, dict) and result.get("id")
        return record_id if isinstance(record_id, int) else False

    def _lead_scoring_apply(self, setting, model_name, record_id):
        # Scoring is a bonus: whatever fails here, the submission is kept.
        record = request.env[model_name].sudo().browse(record_id)
        user = request.env.user
        submitted = dict(request.params)
        try:
            with request.env.cr.savepoint():
                # Only what would create a contact or change a score counts
                # against an anonymous address's limit; past it, the scoring
                # is held, never lost.
                if (
                    user._is_public()
                    and setting._would_score(record, submitted, user=user)
                    and not self._lead_scoring_count_address()
                ):
                    self._lead_scoring_hold(setting, record, submitted)
                    _logger.info(
                        "Lead scoring: hourly limit of scored submissions reached "
                        "for an address, %s,%s held",
                        model_name,
                        record_id,
                    )
                    return
                setting._score_submission(record, submitted, user=user)
        except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY:
            # Odoo retries the whole request, submission included.
            raise
        except IntegrityError:
            # A concurrent submission scored the same key first.
            _logger.info("Lead scoring: form setting %s already scored", setting.id)
        except Exception:
            _logger.exception(
                "Lead scoring: form setting %s could not score %s,%s",
                setting.id,
                model_name,
                record_id,
            )
