"""hotline.core.spreadsheets: no text becomes a formula, numbers stay numbers (issue 28.3)."""

import csv
import io

from openpyxl import load_workbook

from hotline.core.spreadsheets import csv_safe, to_csv, to_xlsx


def test_csv_neutralises_every_formula_start_and_keeps_other_values():
    assert [csv_safe(v) for v in ["=1+1", "+1", "-1", "@A1", "\tx", "\rx"]] == [
        "'=1+1",
        "'+1",
        "'-1",
        "'@A1",
        "'\tx",
        "'\rx",
    ]
    assert [csv_safe(v) for v in ["王先生", "a=b", "", -3, 2.5, None]] == ["王先生", "a=b", "", -3, 2.5, None]
    text = to_csv(["标题", "n"], [['=HYPERLINK("x")', -3]]).decode("utf-8")
    assert text.startswith("\ufeff")
    assert list(csv.reader(io.StringIO(text[1:]))) == [["标题", "n"], ['\'=HYPERLINK("x")', "-3"]]


def test_xlsx_writes_texts_as_strings_numbers_as_numbers_and_drops_xml_illegal_characters():
    sheet = load_workbook(io.BytesIO(to_xlsx("a/b", ["t", "n"], [["=cmd|' /C calc'!A0", 7], ["铃\x07声", 1.5]]))).active
    assert sheet.title == "a b"
    cells = list(sheet.iter_rows(min_row=2))
    assert [(c.value, c.data_type) for c in cells[0]] == [("=cmd|' /C calc'!A0", "s"), (7, "n")]
    assert [(c.value, c.data_type) for c in cells[1]] == [("铃声", "s"), (1.5, "n")]
