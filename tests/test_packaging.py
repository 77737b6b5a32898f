"""The addons as OCA publishes them: each one builds a wheel with whool
(``odoo-addon-lead_scoring`` ...), pip installs the wheels into a fresh
virtualenv that has Odoo, resolving their dependencies (Odoo, OCA addons)
against what is installed there, and Odoo finds them and installs one on a
scratch database with no addons path pointing at this checkout.
"""

import configparser
import os
import subprocess
from pathlib import Path

from .test_lifecycle import ADDONS, ROOT, Database, _setting, assert_clean


def _run(*command, **kwargs):
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=300, check=False, **kwargs
    )
    assert result.returncode == 0, (
        f"{' '.join(map(str, command))} failed:\n{result.stdout[-3000:]}\n"
        f"{result.stderr[-3000:]}"
    )
    return result.stdout


def _fresh_virtualenv(path, python):
    """A new virtualenv that sees Odoo and the OCA addons installed in the
    project's one, as a system's site-packages would, but installs into its own."""
    _run(python, "-m", "venv", "--without-pip", path)
    odoo_site = subprocess.check_output(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        text=True,
    ).strip()
    new_python = path / "bin" / "python"
    new_site = subprocess.check_output(
        [new_python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        text=True,
    ).strip()
    # addsitedir, unlike a plain path line, also runs Odoo's editable-install hook.
    Path(new_site, "odoo-site.pth").write_text(
        f"import site; site.addsitedir({odoo_site!r})\n"
    )
    return new_python, Path(new_site)


def test_wheels_install_beside_odoo(tmp_path):
    python = _setting("LEAD_SCORING_PYTHON")
    conf = configparser.ConfigParser()
    conf.read(_setting("LEAD_SCORING_ODOO_CONF"))
    options = conf["options"]

    dist = tmp_path / "dist"
    # No post-release number from the git history: a shallow clone has none.
    env = dict(os.environ, WHOOL_POST_VERSION_STRATEGY_OVERRIDE="none")
    _run(
        python, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
        "--wheel-dir", dist, *(ROOT / addon for addon in ADDONS), env=env,
    )  # fmt: skip
    wheels = sorted(wheel.name.split("-")[0] for wheel in dist.glob("*.whl"))
    assert wheels == sorted(f"odoo_addon_{addon}" for addon in ADDONS)

    new_python, new_site = _fresh_virtualenv(tmp_path / "venv", python)
    _run(
        python, "-m", "pip", "--python", new_python, "install", "--no-index",
        "--find-links", dist, *(f"odoo-addon-{addon}" for addon in ADDONS),
    )  # fmt: skip

    # Odoo's addons path without this checkout: the wheels are all it has.
    addons_path = ",".join(
        path
        for path in options["addons_path"].split(",")
        if Path(path).resolve() != ROOT
    )
    found = _run(
        new_python, "-c",
        "import sys; from odoo.tools import config; from odoo.modules import module\n"
        f"config.parse_config(['--addons-path={addons_path}'])\n"
        "for name in sys.argv[1:]: print(module.get_module_path(name))",
        *ADDONS,
    ).split()  # fmt: skip
    assert found == [str(new_site / "odoo" / "addons" / addon) for addon in ADDONS]

    prefix = os.environ.get("LEAD_SCORING_TEST_DB", "lead_scoring")
    db = Database(f"{prefix}_wheels")
    db.python = str(new_python)
    db.drop()
    log = db.odoo(
        "install", f"--addons-path={addons_path}", "-i", "lead_scoring",
        "--without-demo=all",
    )  # fmt: skip
    assert_clean(log, "Installing lead_scoring from its wheel")
    state = db._sql(
        db.name, "SELECT state FROM ir_module_module WHERE name = 'lead_scoring'"
    )
    assert state == [("installed",)]
    # Odoo's list of addons paths, at the top of its log, has the wheels' one.
    assert f"'{new_site / 'odoo' / 'addons'}'" in log
    db.drop()
