"""Builds each addon's README.rst and static/description/index.html from its
readme/ fragments, as OCA's oca-gen-addon-readme does.

Usage: python scripts/gen_readme.py [--check]
"""

import ast
import sys
from pathlib import Path

from docutils.core import publish_parts

ROOT = Path(__file__).resolve().parent.parent
ADDONS = [
    "lead_scoring",
    "lead_scoring_website",
    "lead_scoring_marketing",
    "lead_scoring_queue_job",
]
SECTIONS = [
    ("DESCRIPTION.md", None),
    ("CONFIGURE.md", "Configuration"),
    ("USAGE.md", "Usage"),
    ("CONTRIBUTORS.md", "Contributors"),
]


def markdown_to_rst(text):
    """The little Markdown our fragments use (paragraphs, lists, **bold**, `code`)."""
    lines = []
    for line in text.splitlines():
        line = line.replace("`", "``").replace("****", "")
        lines.append(line)
    return "\n".join(lines).strip() + "\n"


def build(addon):
    manifest = ast.literal_eval((ROOT / addon / "__manifest__.py").read_text())
    title = manifest["name"]
    parts = [
        "=" * len(title),
        title,
        "=" * len(title),
        "",
        f"*{manifest['summary']}*",
        "",
        "|maturity| |license|",
        "",
        f".. |maturity| image:: https://img.shields.io/badge/maturity-"
        f"{manifest['development_status']}-yellow.png",
        f".. |license| image:: https://img.shields.io/badge/licence-{manifest['license']}-blue.png",
        "",
    ]
    for fragment, heading in SECTIONS:
        path = ROOT / addon / "readme" / fragment
        if not path.exists():
            continue
        if heading:
            parts += [heading, "=" * len(heading), ""]
        parts += [markdown_to_rst(path.read_text()), ""]
    shots = sorted((ROOT / addon / "static" / "description").glob("*.png"))
    shots = [shot for shot in shots if shot.name != "icon.png"]
    if shots:
        parts += ["Screenshots", "===========", ""]
        for shot in shots:
            alt = shot.stem.replace("_", " ").capitalize()
            parts += [
                f".. image:: static/description/{shot.name}",
                f"   :alt: {alt}",
                "   :width: 100%",
                "",
            ]
    parts += [
        "Maintainers",
        "===========",
        "",
        f"This module is maintained by {manifest['author']}, version {manifest['version']},"
        f" under the {manifest['license']} licence.",
        "",
    ]
    rst = "\n".join(parts)
    html = publish_parts(
        rst, writer_name="html", settings_overrides={"report_level": 5}
    )
    # Odoo's Apps screen serves a bare image name from static/description.
    body = html["html_body"].replace('src="static/description/', 'src="')
    page = (
        '<div class="oe_styling_v8"><section class="oe_container">'
        f"{body}</section></div>\n"
    )
    return rst, page


def main():
    check = "--check" in sys.argv
    stale = []
    for addon in ADDONS:
        rst, page = build(addon)
        targets = {
            ROOT / addon / "README.rst": rst,
            ROOT / addon / "static" / "description" / "index.html": page,
        }
        for path, content in targets.items():
            if path.exists() and path.read_text() == content:
                continue
            if check:
                stale.append(str(path.relative_to(ROOT)))
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(content)
    if stale:
        sys.exit("out of date, run `python scripts/gen_readme.py`: " + ", ".join(stale))


if __name__ == "__main__":
    main()
