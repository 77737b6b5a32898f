# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""SQL helpers shared by the engine and the models."""

from contextlib import contextmanager

from odoo.tools import SQL


def int_array(values):
    """An int4[] parameter written as one array literal ('{1,2,NULL}').

    A Python list becomes ARRAY[1, 2, ...]: one constant per id that
    psycopg2 quotes and PostgreSQL parses and plans one by one, tens of
    milliseconds for the ten thousand ids of an engine batch."""
    items = ",".join("NULL" if value is None else str(int(value)) for value in values)
    return SQL("%s::int4[]", f"{{{items}}}")


@contextmanager
def local_setting(cr, name, value):
    """Set a PostgreSQL setting for a while (within the transaction), then
    put back what it was."""
    cr.execute(SQL("SELECT current_setting(%s)", name))
    previous = cr.fetchone()[0]
    cr.execute(SQL("SELECT set_config(%s, %s, TRUE)", name, str(value)))
    yield previous
    cr.execute(SQL("SELECT set_config(%s, %s, TRUE)", name, previous))
