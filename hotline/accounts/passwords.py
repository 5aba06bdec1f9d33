"""How strong a staff password must be (issue 23.7, docs/security.md).

Length bounds (NIST SP 800-63B: length plus a blocklist, no composition rules), then zxcvbn's estimate of
the guesses an attacker needs, with a minimum score. zxcvbn's lists are English; a Chinese office's weak
passwords are pinyin names with a birthday (``zhangwei1990``) and the love numbers (``woaini1314``), so
those are added as one more ranked list, and the user's own username, name and the name's pinyin count as
the most likely words of all.
"""

from __future__ import annotations

from functools import cache
from itertools import product

from flask_babel import lazy_gettext as _l
from pypinyin import Style, lazy_pinyin
from zxcvbn import zxcvbn
from zxcvbn.matching import add_frequency_lists

from hotline.core.errors import ValidationFailed

MIN_LENGTH = 8
MAX_LENGTH = 128
MIN_SCORE = 3  # zxcvbn: 3 = "safely unguessable" (about 10^8 guesses or more)

# The most frequent surnames and given names (pinyin, in order of frequency), and words of Chinese passwords.
SURNAMES = """wang li zhang liu chen yang huang zhao wu zhou xu sun ma zhu hu guo he gao lin luo zheng liang xie
song tang han feng deng cao peng zeng xiao tian dong yuan pan cai jiang yu du ye cheng wei su lv ding ren shen yao
lu cui zhong tan fan jin shi liao jia xia fu fang bai zou meng xiong qin qiu yin xue yan duan lei hou long tao gu
mao hao gong shao wan qian dai mo kong xiang""".split()
GIVEN_NAMES = """wei fang na min jing li qiang lei jun yang yong yan jie tao ming chao xiuying xia ping gang hua hui
juan ying hong bin bo yu hao xin yi jian feng lin dan ling hai peng fei kai long xiang tian rui ting xue mei qing
cheng guang wen zhi dong ning zhen bing xiaoming xiaohong lihua jianguo jianhua guoqiang zhiqiang haiyan yumei lili
xiaoyan xiaoli xiaojun xiaofeng jianjun jianping""".split()
CHINESE_PASSWORD_WORDS = """woaini aini woaini1314 woaini520 5201314 1314520 520520 1314 520 iloveyou zhongguo
china beijing shanghai guangzhou shenzhen wuhan nanjing hangzhou chengdu xian tianjin chongqing laopo laogong
baobao baobei qinqin mima zhanghao denglu gongzuo danwei rexian zhengfu""".split()


@cache
def _install_chinese_lists() -> None:
    names = [s + g for s, g in product(SURNAMES, GIVEN_NAMES)]
    # Ranked: words first, then surnames, given names and the full names built of them.
    add_frequency_lists({"chinese": CHINESE_PASSWORD_WORDS + SURNAMES + GIVEN_NAMES + names})


def personal_words(username: str | None, display_name: str | None) -> list[str]:
    """The words an attacker tries first for this user: the username, the name and its pinyin."""
    words = [w for w in ((username or "").strip(), (display_name or "").strip()) if w]
    if display_name and display_name.strip():
        syllables = lazy_pinyin(display_name.strip())
        words += [
            "".join(syllables),
            "".join(syllables[1:] + syllables[:1]),
            "".join(lazy_pinyin(display_name.strip(), style=Style.FIRST_LETTER)),
        ]
    return [w.lower() for w in words if len(w) >= 2]


def check_password_strength(password: str | None, username: str | None = None, display_name: str | None = None) -> None:
    """Raise ValidationFailed (field ``password``) with a clear message unless the password is strong enough."""
    password = password or ""
    if len(password) < MIN_LENGTH:
        raise ValidationFailed(_l("The password needs at least %(n)d characters.", n=MIN_LENGTH), field="password")
    if len(password) > MAX_LENGTH:
        raise ValidationFailed(_l("The password may have at most %(n)d characters.", n=MAX_LENGTH), field="password")
    lowered = password.lower()
    words = personal_words(username, display_name)
    if any(len(w) >= 4 and w in lowered for w in words):
        raise ValidationFailed(_l("The password may not contain your username or name."), field="password")
    _install_chinese_lists()
    if zxcvbn(password, user_inputs=words)["score"] < MIN_SCORE:
        raise ValidationFailed(
            _l(
                "This password is too easy to guess (a common word, name, date or pattern). "
                "Use a longer one, e.g. three or four unrelated words."
            ),
            field="password",
        )
