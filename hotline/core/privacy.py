"""What the public may see of an appeal (issue 23.1): the one place for the rule.

- Which tickets: ``publicly_visible()``, a query predicate. A ticket is public only when the citizen allowed
  publication, it is not confidential (a 举报 informant), and the hotline has reviewed and released an answer
  (an approved ``Reply`` with ``released_at``: the ticket is then ``pending_callback``, ``closed``, or back
  ``in_progress`` after a 不满意 rating). Appeals waiting in ``pending_review``, refused or never answered
  are never public.
- Which text: every text of such a ticket that leaves the hotline passes ``scrub_text``; its address
  ``public_address`` (street level only); its map point ``public_point`` (rounded to about 100 m).

Used by Open311 (anonymous readers), ``/public/stats`` and the public FAQ. The scrubber is regular
expressions over the shapes Chinese personal data takes (no maintained library covers them) plus jieba's
segmentation to find the name of a residential compound (锦绣花园, 阳光小区).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from functools import lru_cache

import jieba

jieba.setLogLevel(logging.WARNING)

MASK = "***"
NAME_MASK = "某"

# The common surnames (by population) and the compound ones: a titled or introduced name starts with one.
_SURNAMES_1 = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任"
    "沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴"
    "莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮"
    "柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓"
    "古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙"
    "荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝"
)
_SURNAMES_2 = (
    "欧阳",
    "司马",
    "诸葛",
    "上官",
    "东方",
    "皇甫",
    "尉迟",
    "公孙",
    "慕容",
    "长孙",
    "宇文",
    "司徒",
    "夏侯",
    "令狐",
    "端木",
    "西门",
    "南宫",
    "独孤",
    "呼延",
    "澹台",
    "轩辕",
    "申屠",
    "钟离",
    "闻人",
    "百里",
)
_SURNAME = "(?:" + "|".join(_SURNAMES_2) + f"|[{_SURNAMES_1}])"
_TITLES = "先生|女士|小姐|老师|师傅|阿姨|大爷|大妈|大姐|大哥|老伯|奶奶|爷爷|同志|经理|老板|书记|主任|医生|律师"
_HAN = r"[\u4e00-\u9fff]"

# Where a name usually ends in running text: 我叫李四电话… is 李四, not 李四电.
_NOT_IN_NAME = "[电手住家在是的联身地，,。]"
# A self-introduction or a form label before a name: the name (2-3 characters, 4 with a compound surname).
_INTRODUCED = re.compile(
    r"(我叫|我的名字是|我的名字叫|名字叫|本人叫|姓名(?:是|为|[:：]\s*)?|联系人(?:是|为|[:：]\s*)?|"
    r"举报人(?:是|为|[:：]\s*)|投诉人(?:是|为|[:：]\s*)|反映人(?:是|为|[:：]\s*)|来电人(?:是|为|[:：]\s*)|"
    r"当事人(?:是|为|[:：]\s*)|业主(?:是|为|[:：]\s*))"
    rf"({_SURNAME}{_HAN}(?:(?!{_NOT_IN_NAME}){_HAN})?|(?!{_NOT_IN_NAME}){_HAN}{{2}})"
)
# 我是王小明 / 本人王小明: only with a known surname (我是业主 is no name).
_SELF = re.compile(
    rf"(我姓)({_SURNAME})|(我是|本人)({_SURNAME}{_HAN}(?:(?!{_NOT_IN_NAME}){_HAN})?)"
    r"(?=[，,。；;！!\s(（]|$|反映|投诉|举报|来电|电话|手机|住|家住)"
)
# 王先生, 张女士, 欧阳老师.
_TITLED = re.compile(rf"{_SURNAME}(?={_TITLES})")

_MOBILE = r"(?:\+?86[\s-]?)?1[3-9]\d(?:[\s-]?\d){8}"
_LANDLINE = r"(?:[(（]0\d{2,3}[)）]\s?|0\d{2,3}[\s-]?)\d{3,4}[\s-]?\d{4}"
_SERVICE = r"[48]00[\s-]?\d{3}[\s-]?\d{4}"
_LOCAL = r"\d{7,8}"  # a local number without its area code
_PHONE = re.compile(rf"(?<![\d.])(?:{_MOBILE}|{_SERVICE}|{_LANDLINE}|{_LOCAL})(?![\d.])")
_ID_CARD = re.compile(r"(?<!\d)(?:\d{17}[\dXx]|\d{15})(?![\dA-Za-z])")
_LONG_NUMBER = re.compile(r"(?<!\d)\d{9,}(?!\d)")  # bank cards, account and other long numbers
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_PLATE = re.compile(
    r"[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼使领]\s?[A-Za-z]\s?[·•.\s-]?"
    r"(?=[A-Za-z0-9]*\d)[A-Za-z0-9]{4,6}[挂学警港澳]?(?![A-Za-z0-9])"
)

# House and room numbers: 88号, 3栋, 2单元, 201室, 5楼, B座, 三单元, 12-3-401; a bare number after one (3栋201).
# Not document numbers (国务院令第724号, 海政规〔2024〕3号), dates (3月1号) or metro lines (2号线).
_NUMBER = r"(?:(?<![A-Za-z])[A-Za-z]?\d+[A-Za-z]?|[一二三四五六七八九十百零〇两]+|(?<![A-Za-z])[A-Za-z])"
_UNIT = r"号楼|号院|号|栋|幢|座|单元|楼|层|室|房|弄|期|组"
_DETAIL = (
    rf"(?<![第〕\]】月令字\d一二三四五六七八九十百零〇两])(?:{_NUMBER})\s*(?:{_UNIT})(?!线|文|令|窗|通知|公告)"
    r"|(?<![\d:.-])(?!(?:19|20)\d\d-\d{1,2}-\d{1,2}(?!\d))\d{1,4}-\d{1,3}-\d{1,4}(?![\d-])"
)
_HOUSE = re.compile(rf"(?:{_DETAIL})(?:\s*(?:{_DETAIL}|[-－]?\d{{1,4}}(?![\d年月日])))*")

# Residential compounds, named below the street: 锦绣花园, 阳光小区, 幸福家园.
_COMPOUND_WORDS = (
    "花园",
    "小区",
    "家园",
    "公寓",
    "大厦",
    "新村",
    "花苑",
    "苑",
    "公馆",
    "山庄",
    "别墅",
    "宿舍",
    "大院",
    "新城",
    "名都",
    "华庭",
    "府邸",
    "雅居",
    "嘉园",
)
# Words before 小区/花园 that are no name: 在小区, 该小区, 老小区.
_KEEP_BEFORE = frozenset(
    """的 在 住 住在 家住 位于 于 近 到 去 从 是 和 与 及 或 对面 旁边 附近 周边 门口 反映 投诉 举报
我 我家 我们 你 他 她 他们 这 那 该 本 此 各 每 每个 这个 那个 这栋 那栋 整个 全 多个 一些 老 新 旧 所在 所属 进入 进 出
回 离开 整改 管理 物业 业主""".split()
)

# What a street-level address may end with: an administrative unit or a road.
_ROAD = re.compile(r"街道|大道|大街|路(?!口|灯|面|边|段|牌|过)|街(?!边|头|口|角)|巷(?!口)|弄|胡同")
_ADMIN = re.compile(r"省|自治区|(?<![超菜城夜集])市(?!场|民)|(?<![社小园景校厂])区|县|镇|乡")
_BELOW_STREET = re.compile(rf"\d|[A-Za-z]|(?:{_DETAIL})")


def scrub_text(
    text: str | None,
    *,
    names: Iterable[str | None] = (),
    phones: Iterable[str | None] = (),
    addresses: Iterable[str | None] = (),
) -> str:
    """Text fit for publication: the ticket's own ``names``/``phones``/``addresses`` where they appear (an address
    becomes its street-level part), then every shape of a name, phone, ID card, plate, e-mail address, house or
    room number and residential compound. Ordinary text stays as it was."""
    if not text:
        return ""
    for address in sorted({a for a in addresses if a}, key=len, reverse=True):
        text = text.replace(address, public_address(address))
    for phone in {p for p in phones if p}:
        text = text.replace(phone, MASK)
    for name in sorted({n.strip() for n in names if n and len(n.strip()) >= 2}, key=len, reverse=True):
        text = text.replace(name, NAME_MASK * 2)
    return _scrub_shapes(text)


@lru_cache(maxsize=1024)
def _scrub_shapes(text: str) -> str:
    text = _EMAIL.sub(MASK, text)
    text = _ID_CARD.sub(MASK, text)
    text = _PHONE.sub(MASK, text)
    text = _LONG_NUMBER.sub(MASK, text)
    text = _PLATE.sub(MASK, text)
    text = _INTRODUCED.sub(lambda m: m.group(1) + NAME_MASK * 2, text)
    text = _SELF.sub(lambda m: m.group(1) + NAME_MASK if m.group(1) else m.group(3) + NAME_MASK * 2, text)
    text = _TITLED.sub(NAME_MASK, text)
    text = _drop_compounds(text)
    return _HOUSE.sub("", text)


def _drop_compounds(text: str) -> str:
    """Remove a residential compound's name as jieba segments it (锦绣 花园, 幸福 家园 小区, 翠苑): a word that
    ends with 花园/小区/… and holds a name, or such a word right after a name. The plain noun stays (在小区门口)."""
    if not any(word in text for word in _COMPOUND_WORDS):
        return text
    words = list(jieba.cut(text))
    drop = [False] * len(words)
    for i, word in enumerate(words):
        if not _is_compound_word(word):
            continue
        j = i - 1
        while j >= 0 and _is_compound_word(words[j]):
            j -= 1  # 幸福 家园 小区: back to the name
        named = word not in _COMPOUND_WORDS or any(w not in _COMPOUND_WORDS for w in words[j + 1 : i])
        if j >= 0 and _is_name_word(words[j]):
            drop[j] = named = True
        if named:
            for k in range(j + 1, i + 1):
                drop[k] = True
    return "".join(w for w, d in zip(words, drop) if not d)


def _is_compound_word(word: str) -> bool:
    return word.endswith(_COMPOUND_WORDS) and re.fullmatch(rf"{_HAN}+", word) is not None


def _is_name_word(word: str) -> bool:
    return (
        re.fullmatch(rf"{_HAN}+", word) is not None
        and word not in _KEEP_BEFORE
        and not _ROAD.search(word)
        and not _ADMIN.search(word)
    )


def public_address(address: str | None) -> str:
    """The street-level part of an address: 东湖区人民路88号3栋201室 → 东湖区人民路; 湖滨街道柳岸社区3组 →
    湖滨街道; an address with no district, street or road in it → ''."""
    if not address:
        return ""
    head = address
    below = _BELOW_STREET.search(head)
    if below:
        head = head[: below.start()]
    head = _drop_compounds(head)
    ends = [m.end() for m in _ROAD.finditer(head)] or [m.end() for m in _ADMIN.finditer(head)]
    return _scrub_shapes(head[: ends[-1]]) if ends else ""


def public_point(lat: float | None, lon: float | None) -> tuple[float | None, float | None]:
    """A map point rounded to three decimals (about 100 m): the street, not the house."""
    if lat is None or lon is None:
        return None, None
    return round(lat, 3), round(lon, 3)


def publicly_visible():
    """The query predicate on ``Ticket`` for everything published to anonymous readers."""
    # Imported here: hotline.core is below the domain packages, and this is the one rule they share.
    from sqlalchemy import and_, exists
    from sqlalchemy.orm import aliased

    from hotline.tickets.models import Reply, ReplyState, Ticket

    reply = aliased(Reply)  # its own name: a query over replies may use the predicate too
    released = exists().where(
        reply.ticket_id == Ticket.id, reply.state == ReplyState.APPROVED.value, reply.released_at.is_not(None)
    )
    return and_(Ticket.allow_publish.is_(True), Ticket.confidential.is_(False), released)
