"""The shared scrubber for public output (hotline.core.privacy) and the control-character rule (hotline.core.text):
each shape of Chinese personal data in, no trace of it out; ordinary text stays readable."""

import pytest

from hotline.core.privacy import public_address, public_point, scrub_text
from hotline.core.text import strip_control

# (shape, text holding it, what must not survive)
PII_SHAPES = [
    ("self-introduction", "我叫王小明，路灯坏了", ["王小明", "小明"]),
    ("self-introduction without comma", "我叫李四电话打不通", ["李四"]),
    ("我是 + name", "我是王小明，住这里", ["王小明"]),
    ("本人 + name", "本人张三反映噪音", ["张三"]),
    ("surname only", "我姓王，家门口积水", ["姓王"]),
    ("contact label", "联系人：李四，随时联系", ["李四"]),
    ("name label", "姓名：赵敏。", ["赵敏"]),
    ("title Mr", "王先生反映路灯不亮", ["王先生"]),
    ("title Ms", "张女士来电", ["张女士"]),
    ("compound surname and title", "欧阳老师说", ["欧阳"]),
    ("mobile", "电话13912340001", ["13912340001", "1234"]),
    ("mobile +86", "手机+8613912340001", ["13912340001", "+86"]),
    ("mobile with spaces", "手机 139 1234 0001 打不通", ["139 1234", "0001"]),
    ("mobile with dashes", "139-1234-0001", ["139-1234", "0001"]),
    ("mobile +86 with space", "+86 139 1234 0001", ["1234", "0001"]),
    ("landline", "座机0755-88881234", ["88881234", "0755"]),
    ("landline without dash", "座机02188881234", ["88881234"]),
    ("landline with brackets", "（010）12345678", ["12345678"]),
    ("landline seven digits", "0755 1234567", ["1234567"]),
    ("local number", "拨打88881234", ["88881234"]),
    ("400 number", "客服400-123-4567", ["400-123", "4567"]),
    ("800 number", "800 820 8820", ["820", "8820"]),
    ("ID card", "身份证110101199003071234", ["110101199003071234", "19900307"]),
    ("ID card with X", "证件号11010119900307123X", ["11010119900307123X", "19900307"]),
    ("old ID card", "旧证110101900307123", ["110101900307123"]),
    ("plate", "车牌粤B12345违停", ["B12345", "粤B"]),
    ("new-energy plate with dot", "京A·D12345占道", ["D12345", "京A"]),
    ("plate lower case", "粤b9x7k2", ["9x7k2", "粤b"]),
    ("e-mail", "邮箱wang.xm@example.com", ["wang.xm", "example.com", "@"]),
    ("house number", "住人民路88号", ["88号", "88"]),
    ("building and room", "3栋201室", ["3栋", "201", "室"]),
    ("unit and room", "2单元502", ["2单元", "502"]),
    ("hyphenated room", "12-3-401漏水", ["12-3", "401"]),
    ("chinese numerals", "三单元五楼", ["三单元", "五楼"]),
    ("building with letter", "B座1203", ["B座", "1203"]),
    ("compound and number", "锦绣花园88号旁", ["锦绣", "花园", "88", "**"]),
    ("compound", "我家住在阳光花园", ["阳光花园", "阳光"]),
    ("compound with two words", "幸福家园小区门口", ["幸福", "家园"]),
    (
        "probe",
        "我叫王小明，电话13912340001，身份证110101199003071234，住人民路88号3栋201室",
        ["王小明", "13912340001", "110101199003071234", "88号", "3栋", "201", "室"],
    ),
]

READABLE = [
    "人民路路灯不亮已三天",
    "依据国务院令第724号和海政规〔2024〕3号办理",
    "3月1号起停水，地铁2号线施工",
    "工作日8:00-12:00、14:00-18:00施工",
    "2024-03-07发生漏水",
    "在小区门口堆放垃圾，该小区物业不管",
    "有30户居民受影响，请拨打12345",
    "本人于2024年反映过",
    "我是业主，物业乱收费",
    "湖滨街道柳岸社区",
]


@pytest.mark.parametrize("shape, text, traces", PII_SHAPES, ids=[s[0] for s in PII_SHAPES])
def test_each_shape_of_personal_data_leaves_no_trace(shape, text, traces):
    clean = scrub_text(text)
    for trace in traces:
        assert trace not in clean, (shape, clean)


@pytest.mark.parametrize("text", READABLE)
def test_ordinary_text_stays_readable(text):
    assert scrub_text(text) == text


def test_the_probe_keeps_its_street_and_its_sense():
    clean = scrub_text("我叫王小明，电话13912340001，身份证110101199003071234，住人民路88号3栋201室，路灯不亮已三天")
    assert clean.startswith("我叫") and "住人民路" in clean and clean.endswith("路灯不亮已三天")


def test_the_tickets_own_values_go_wherever_they_appear():
    clean = scrub_text(
        "司马相如反映：东湖区人民路12号阳光花园3栋2单元501室漏水，打13711112222",
        names=["司马相如"],
        phones=["13711112222"],
        addresses=["东湖区人民路12号阳光花园3栋2单元501室"],
    )
    assert clean == "某某反映：东湖区人民路漏水，打***"
    assert scrub_text(None) == "" and scrub_text("", names=["张伟"]) == ""


@pytest.mark.parametrize(
    "address, public",
    [
        ("东湖区人民路88号3栋201室", "东湖区人民路"),
        ("人民路88号", "人民路"),
        ("东湖区人民路1号阳光花园", "东湖区人民路"),
        ("锦绣花园88号旁", ""),
        ("湖滨街道柳岸社区3组", "湖滨街道"),
        ("东湖区中山大道100号", "东湖区中山大道"),
        ("人民路与解放路路口", "人民路与解放路"),
        ("海川市东湖区光谷软件园", "海川市东湖区"),
        ("东湖区人民路菜市场门口", "东湖区人民路"),
        ("12-3-401", ""),
        (None, ""),
    ],
)
def test_public_address_is_street_level(address, public):
    assert public_address(address) == public


def test_public_point_is_rounded_to_about_100_m():
    assert public_point(30.591234, 114.304567) == (30.591, 114.305)
    assert public_point(None, None) == (None, None)


@pytest.mark.parametrize("char", ["\x00", "\x07", "\x0b", "\x0c", "\x1b", "\x7f", "\x85", "\ufffe", "\ud800"])
def test_control_characters_are_stripped(char):
    assert strip_control(f"路灯{char}不亮") == "路灯不亮"


def test_tab_and_line_breaks_stay():
    assert strip_control("第一行\r\n\t第二行") == "第一行\r\n\t第二行"
    assert strip_control(None) is None and strip_control("") == ""
