"""The UI speaks Chinese first: every message the code and templates use has a Chinese translation."""

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
ZH = ROOT / "hotline/translations/zh_Hans_CN/LC_MESSAGES/messages.po"


def test_every_message_in_use_has_a_chinese_translation(tmp_path):
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_l",
            "-k",
            "lazy_gettext",
            "-o",
            str(pot),
            "hotline",
            "templates",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with pot.open("rb") as f:
        used = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(f) if m.id}
    with ZH.open("rb") as f:
        zh = {m.id if isinstance(m.id, str) else m.id[0]: m for m in read_po(f, locale="zh_Hans_CN") if m.id}
    untranslated = sorted(
        i for i in used if i not in zh or not (zh[i].string if isinstance(zh[i].string, str) else zh[i].string[0])
    )
    assert used and not untranslated, f"run `make extract-messages` and translate: {untranslated}"
