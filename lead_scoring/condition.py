# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""A rule's condition evaluated within bounds.

A condition is data: a domain of fields, operators and values, with a few
names for dates and the user (see lead.score.rule._eval_context). Odoo's
safe_eval keeps methods and records out of reach but not size: ``9**9**9``
or ``'x' * 10**10`` hold a worker as long as Python computes them, and its
``time`` holds ``sleep``. Here the text is parsed first and refused unless
it keeps to that vocabulary and to operations whose result stays small; the
operations whose result could grow (``*``, ``+``, ``%``) and the attributes
reached at evaluation are checked as they run, against a budget shared by
the whole condition. A condition then evaluates in about the time it takes
to read it.
"""

import ast
import datetime
import re
import types

from dateutil.relativedelta import relativedelta, weekday

from odoo.exceptions import UserError
from odoo.tools.safe_eval import safe_eval, wrap_module

# Characters of a condition: a list of a few thousand ids fits.
MAX_LENGTH = 100_000
# Items (characters, list elements) that all the sequences a condition builds
# may hold together.
MAX_ITEMS = 1_000_000
# Bits of an integer a condition may compute.
MAX_BITS = 4_096
# No use in a condition, and each can compute without end: iteration
# (comprehensions), powers and left shifts (numbers of any size), formatted
# strings (any width).
REFUSED_NODES = {
    ast.Pow: "**",
    ast.LShift: "<<",
    ast.ListComp: "[... for ...]",
    ast.SetComp: "{... for ...}",
    ast.DictComp: "{... for ...}",
    ast.GeneratorExp: "(... for ...)",
    ast.Lambda: "lambda",
    ast.NamedExpr: ":=",
    ast.JoinedStr: "f-string",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.YieldFrom: "yield from",
}
# What a value of these types offers (dates, durations, their methods).
DATE_TYPES = (
    datetime.date,
    datetime.time,
    datetime.timedelta,
    datetime.tzinfo,
    relativedelta,
    weekday,
)
# Attributes of safe_eval's wrapped modules that do not return a value at
# once: time.sleep waits, dateutil.rrule enumerates dates without bound.
REFUSED_ATTRIBUTES = {"sleep", "rrule", "rrulestr", "rruleset"}
# A width or precision in %-formatting ('%999999999d').
FORMAT_WIDTH = re.compile(r"%(\([^)]*\))?[-#0 +]*(\d|\*|\.)")
SEQUENCES = (str, bytes, list, tuple)


class ConditionRefused(UserError):
    """A condition outside the bounds; its message says which."""


def bounded_eval(env, text, values):
    """Evaluate the condition ``text`` with ``values`` (the names it may
    use), within the bounds above; raises ConditionRefused otherwise."""
    tree = _checked_tree(env, text or "[]", set(values))
    try:
        source = ast.unparse(ast.fix_missing_locations(_Guarding().visit(tree)))
    except RecursionError:
        raise ConditionRefused(env._("the condition is nested too deeply")) from None
    return safe_eval(source, dict(values, **_Guards(env).functions()))


def _checked_tree(env, text, names):
    if len(text) > MAX_LENGTH:
        raise ConditionRefused(
            env._(
                "the condition is too long (more than %(max)s characters)",
                max=MAX_LENGTH,
            )
        )
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as error:
        raise ConditionRefused(
            env._("the condition cannot be read: %s", error)
        ) from None
    for node in ast.walk(tree):
        refused = REFUSED_NODES.get(type(node))
        if refused:
            raise ConditionRefused(env._("a condition may not use %s", refused))
        if isinstance(node, ast.Name) and node.id not in names:
            raise ConditionRefused(
                env._(
                    "%(name)s is not a value a condition may use (%(names)s)",
                    name=node.id,
                    names=", ".join(sorted(names)),
                )
            )
        if isinstance(node, ast.Attribute) and (
            node.attr.startswith("_") or node.attr in REFUSED_ATTRIBUTES
        ):
            raise ConditionRefused(env._("a condition may not use .%s", node.attr))
    return tree


class _Guarding(ast.NodeTransformer):
    """Operations that could build a large value, and attribute reads,
    become calls to the guards (whose names are not in the vocabulary that
    _checked_tree lets a condition use)."""

    OPERATORS = {ast.Mult: "mul", ast.Add: "add", ast.Mod: "mod"}

    def visit_BinOp(self, node):
        self.generic_visit(node)
        name = self.OPERATORS.get(type(node.op))
        if not name:
            return node
        return ast.Call(
            func=ast.Name(id=f"lead_scoring_{name}", ctx=ast.Load()),
            args=[node.left, node.right],
            keywords=[],
        )

    def visit_Attribute(self, node):
        self.generic_visit(node)
        return ast.Call(
            func=ast.Name(id="lead_scoring_attr", ctx=ast.Load()),
            args=[node.value, ast.Constant(node.attr)],
            keywords=[],
        )


class _Guards:
    def __init__(self, env):
        self.env = env
        self.items = MAX_ITEMS

    def functions(self):
        return {
            "lead_scoring_mul": self.mul,
            "lead_scoring_add": self.add,
            "lead_scoring_mod": self.mod,
            "lead_scoring_attr": self.attr,
        }

    def _too_large(self):
        return ConditionRefused(
            self.env._(
                "the condition computes too large a value (at most %(items)s "
                "items and %(bits)s-bit numbers)",
                items=MAX_ITEMS,
                bits=MAX_BITS,
            )
        )

    def _spend(self, size):
        self.items -= size
        if self.items < 0:
            raise self._too_large()

    def mul(self, left, right):
        for sequence, times in ((left, right), (right, left)):
            if isinstance(sequence, SEQUENCES) and isinstance(times, int):
                self._spend(len(sequence) * max(times, 0))
        if (
            isinstance(left, int)
            and isinstance(right, int)
            and left.bit_length() + right.bit_length() > MAX_BITS
        ):
            raise self._too_large()
        return left * right

    def add(self, left, right):
        if isinstance(left, SEQUENCES) and isinstance(right, SEQUENCES):
            self._spend(len(left) + len(right))
        return left + right

    def mod(self, left, right):
        if isinstance(left, str | bytes):
            text = left if isinstance(left, str) else left.decode(errors="replace")
            if FORMAT_WIDTH.search(text):
                raise ConditionRefused(
                    self.env._("a condition may not format with a width or precision")
                )
            self._spend(len(left) + len(str(right)))
        return left % right

    def attr(self, value, name):
        if (
            isinstance(value, wrap_module | types.ModuleType)
            or isinstance(value, DATE_TYPES)
            or (isinstance(value, type) and issubclass(value, DATE_TYPES))
        ):
            return getattr(value, name)
        raise ConditionRefused(
            self.env._(
                "a condition may read .%(name)s of dates only, not of %(value)s",
                name=name,
                value=type(value).__name__,
            )
        )
