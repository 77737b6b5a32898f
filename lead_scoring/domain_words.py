# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""A rule's condition in words, as the rules list and the rule form show it.

Functions of a recordset of the condition's model and a normalized domain:
field labels in the user's language, operator words, and the names of the
records a condition names, read with the user's rights (ids of the others),
so that a summary never reveals a record its reader may not see.
"""

from odoo.osv import expression


def domain_in_words(model, domain):
    """The normalized ``domain`` on ``model`` in words."""
    env = model.env
    if domain == expression.TRUE_DOMAIN:
        return (
            env._("every contact")
            if model._name == "res.partner"
            else env._("every record")
        )
    words = {"&": env._("and"), "|": env._("or")}
    stack = []
    for token in reversed(domain):
        if not isinstance(token, str):
            stack.append(("leaf", leaf_in_words(model, token)))
        elif token == "!":
            stack.append(("!", env._("not (%s)", stack.pop()[1])))
        else:
            parts = [stack.pop(), stack.pop()]
            # A part joined by the other operator is bracketed.
            texts = [
                text if kind in (token, "leaf", "!") else f"({text})"
                for kind, text in parts
            ]
            stack.append((token, f" {words[token]} ".join(texts)))
    return stack[0][1]


def leaf_in_words(model, leaf):
    """One condition ``(path, operator, value)``: "Country > Name is "BE"\" """
    env = model.env
    path, operator, value = leaf
    if not isinstance(path, str):
        return (
            env._("always") if tuple(leaf) == expression.TRUE_LEAF else env._("never")
        )
    labels, field = [], None
    for name in path.split("."):
        field = model._fields.get(name)
        if field is None:
            labels.append(name)
            break
        labels.append(field.get_description(env)["string"])
        if field.relational:
            model = env[field.comodel_name]
    subject = " > ".join(labels)
    if operator in ("=", "!=") and (
        value is False
        or value is None
        or (field is not None and field.type == "boolean")
    ):
        is_set = bool(value) == (operator == "=")
        return f"{subject} {env._('is set') if is_set else env._('is not set')}"
    if field is not None and field.relational and operator in ("any", "not any"):
        text = domain_in_words(model, expression.normalize_domain(value))
        return f"{subject} {operator_word(env, operator)} ({text})"
    return (
        f"{subject} {operator_word(env, operator)} {value_words(model, field, value)}"
    )


def operator_word(env, operator):
    """A domain operator as a reader says it; an unknown one as written."""
    return {
        "=": env._("is"),
        "!=": env._("is not"),
        "in": env._("is in"),
        "not in": env._("is not in"),
        "ilike": env._("contains"),
        "like": env._("contains"),
        "not ilike": env._("does not contain"),
        "not like": env._("does not contain"),
        "=like": env._("matches"),
        "=ilike": env._("matches"),
        "child_of": env._("is under"),
        "parent_of": env._("is above"),
        "any": env._("has one with"),
        "not any": env._("has none with"),
    }.get(operator, operator)


def value_words(model, field, value):
    """Values as shown to the user: names of the records of ``model`` (the
    field's comodel) the user may read, ids of the others, labels of
    selection values, quoted texts."""
    env = model.env
    values = list(value) if isinstance(value, list | tuple) else [value]
    if field is not None and field.relational:
        ids = [v for v in values if isinstance(v, int) and not isinstance(v, bool)]
        names = {}
        if ids and model.has_access("read"):
            readable = model.with_context(active_test=False).search([("id", "in", ids)])
            names = {record.id: record.display_name for record in readable}
        texts = [names.get(v, str(v)) if v in ids else f'"{v}"' for v in values]
    elif field is not None and field.type == "selection":
        labels = dict(field._description_selection(env))
        texts = [str(labels.get(v, v)) for v in values]
    else:
        quote = field is None or field.type in ("char", "text", "html")
        texts = [f'"{v}"' if quote and isinstance(v, str) else str(v) for v in values]
    return ", ".join(texts)
