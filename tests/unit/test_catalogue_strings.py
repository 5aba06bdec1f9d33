"""Chinese words a user reads come from the catalogue (English msgids, hotline/translations): a Chinese string
literal in Python is allowed only in a docstring, as a gettext argument, or in the modules below that hold data
in Chinese (the demo city, the words parsers and detectors look for, the page drawn when nothing else can be)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CJK = re.compile(r"[\u4e00-\u9fff]")
GETTEXT = {"_", "_l", "gettext", "lazy_gettext", "ngettext", "lazy_ngettext"}
DATA_MODULES = {
    "hotline/__init__.py": "BARE_ERROR_PAGE, drawn without templates or catalogues",
    "hotline/admin/bulk.py": "the yes/no words an imported spreadsheet may use",
    "hotline/core/privacy.py": "the name, title and address patterns the scrubber looks for",
    "hotline/dashboard/demo.py": "the demo city's key projects",
    "hotline/dashboard/kpis.py": "the address pattern repeat appeals are matched on",
    "hotline/demo/data.py": "the demo city",
    "hotline/demo/seed.py": "the demo accounts' names",
    "hotline/knowledge/demo.py": "the demo knowledge base",
    "hotline/knowledge/services.py": "words too common to suggest an article",
    "hotline/notify/templates.py": "the Chinese payload words of rows written before codes",
    "hotline/search/segment.py": "stop words",
    "hotline/sms/words.py": "the unsubscribe words citizens reply with",
    "hotline/sla/notice.py": "the State Council notice's wording, which the parser reads",
}
# Reference text for developers and partners (OpenAPI field descriptions, CLI help) glosses terms in Chinese.
REFERENCE_MODULES = {"hotline/api/actions.py", "hotline/api/schemas.py", "hotline/sla/cli.py"}


def _literals(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    exempt: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            exempt.add(id(body[0].value))  # a docstring
        if isinstance(node, ast.Call):
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name in GETTEXT:
                exempt.update(id(n) for arg in node.args for n in ast.walk(arg))
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in exempt:
            if CJK.search(node.value):
                yield node.lineno, node.value


def test_chinese_words_outside_the_catalogue_are_data():
    stray = []
    for path in sorted((ROOT / "hotline").rglob("*.py")):
        name = path.relative_to(ROOT).as_posix()
        if name in DATA_MODULES or name in REFERENCE_MODULES:
            continue
        stray += [f"{name}:{line}: {text[:60]!r}" for line, text in _literals(path)]
    assert not stray, "move these into the catalogue (an English msgid):\n" + "\n".join(stray)


def test_the_check_sees_a_stray_string(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text('"""文档。"""\nfrom flask_babel import lazy_gettext as _l\nA = _l("好")\nB = "工单已超期"\n')
    assert [line for line, _ in _literals(sample)] == [4]


def test_every_listed_module_still_holds_such_data():
    for name in DATA_MODULES:
        assert list(_literals(ROOT / name)), f"{name} no longer needs to be listed"
