# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""SQL that the engine, the models and the reports share, written once.

Each function returns an ``odoo.tools.SQL`` fragment that its caller puts in
its own statement, in the place and shape it had: a LATERAL join stays a
LATERAL join and a scalar subquery a scalar subquery, so that PostgreSQL
plans each statement as before (the newest line of a contact's group is one
lookup in the ledger's index on (partner_id, group_id, date, id)).
"""

from odoo.tools import SQL


def newest_first(alias="o"):
    """The ledger's order, newest line first: by date, then by id.

    A contact's score in a group is the balance of the first line in this
    order. The date comes first because a line may be recorded with an
    earlier date than lines already there (it is then replayed into place);
    the id settles lines of the same moment (a run's lines all have the
    run's date) in the order they were recorded, the order in which the
    replay folds them (``date, id``)."""
    return SQL(
        "%s DESC, %s DESC", SQL.identifier(alias, "date"), SQL.identifier(alias, "id")
    )


def newest_line(partner, group, columns=("balance",), alias="o", before=None):
    """A SELECT of ``columns`` of the newest line (see :func:`newest_first`)
    of contact ``partner`` in score group ``group`` (values or SQL of the
    caller's statement, such as ``SQL("src.partner_id")``); no row when the
    contact has no line in the group. Its ``balance`` is the contact's score
    in the group, before the group's cap. With ``before`` (a date), the
    newest line dated before it: the score the contact had then.

    ORDER BY ... LIMIT 1, in a LATERAL join or a subquery: one backward
    lookup in the index on (partner_id, group_id, date, id) per contact and
    group, where DISTINCT ON or an aggregate reads all of the contact's
    lines."""
    partner_id = SQL.identifier(alias, "partner_id")
    group_id = SQL.identifier(alias, "group_id")
    dated = SQL()
    if before is not None:
        dated = SQL(" AND %s < %s", SQL.identifier(alias, "date"), before)
    return SQL(
        """SELECT %(columns)s FROM lead_score_operation %(alias)s
                     WHERE %(partner_id)s = %(partner)s
                       AND %(group_id)s = %(group)s%(dated)s
                     ORDER BY %(order)s LIMIT 1""",
        columns=SQL(", ").join(SQL.identifier(alias, column) for column in columns),
        alias=SQL.identifier(alias),
        partner_id=partner_id,
        partner=partner,
        group_id=group_id,
        group=group,
        dated=dated,
        order=newest_first(alias),
    )


def tier_of(score, group, condition=None):
    """A SELECT of the id of the tier that ``score`` reaches in score group
    ``group`` (values or SQL of the caller's statement); no row below the
    group's lowest tier, or when ``condition`` (SQL, e.g. that the contact
    does not object to scoring) is false.

    Tiers are bands: each starts at its minimum score and ends where the
    next one starts, so a score's tier is the active tier of its group with
    the greatest minimum at or below it, the first in ``min_score DESC``
    order."""
    return SQL(
        """SELECT t.id FROM lead_score_tier t
                 WHERE t.active AND t.min_score <= %s AND t.group_id = %s%s
                 ORDER BY t.min_score DESC LIMIT 1""",
        score,
        group,
        SQL(" AND %s", condition) if condition is not None else SQL(),
    )
