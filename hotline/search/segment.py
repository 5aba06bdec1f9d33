"""Chinese word segmentation with jieba: the one place that turns text into search tokens.

Documents are segmented in search mode (``cut_for_search``: long words *and* the shorter words inside
them, so 乱收费 is indexed as 乱收 收费 乱收费); a query is cut into the shortest words that cover it,
so the query 拖欠工资 finds 拖欠了工资 as well. Both back ends (PostgreSQL ``simple`` and SQLite FTS5
``unicode61``) then split the space-joined tokens on whitespace only: the segmentation is ours.
"""

from __future__ import annotations

import logging
import re
import threading
from functools import lru_cache

import jieba

jieba.setLogLevel(logging.WARNING)
_ready = threading.Lock()
_initialised = False

# Function words and fillers that carry no meaning for search or similarity.
STOPWORDS = frozenset(
    """
的 了 在 是 我 你 他 她 它 们 我们 你们 他们 有 和 与 及 或 就 都 也 还 又 很 把 被 让 给 对 从 到 向 为 为了 以
这 那 这个 那个 这里 那里 一个 一些 什么 怎么 怎么办 如何 吗 呢 吧 啊 呀 哦 嗯 请 请问 麻烦 希望 要求 反映 问题
能否 是否 可以 能 会 要 已 已经 没有 不 没 但 但是 而 并 等 等等 后 前 上 下 中 内 时 个 号 之 其 该 此 各 再 且 则
""".split()
)

_WORD = re.compile(r"\w", re.UNICODE)


def _init() -> None:
    global _initialised
    if not _initialised:
        with _ready:
            if not _initialised:
                jieba.initialize()  # the dictionary ships inside the package: no download
                _initialised = True


def _keep(token: str) -> bool:
    return bool(_WORD.search(token)) and token not in STOPWORDS and not token.isspace()


def _clean(token: str) -> str:
    return token.strip().lower().replace('"', "").replace("'", "")


@lru_cache(maxsize=20000)
def document_tokens(text: str) -> tuple[str, ...]:
    """Index tokens of a document, in text order (search mode)."""
    if not text:
        return ()
    _init()
    return tuple(t for t in (_clean(w) for w in jieba.cut_for_search(text)) if t and _keep(t))


@lru_cache(maxsize=4000)
def query_tokens(text: str) -> tuple[str, ...]:
    """The shortest dictionary words that cover each word of the query, without repeats."""
    if not text:
        return ()
    _init()
    out: list[str] = []
    for word in (_clean(w) for w in jieba.cut(text)):
        if not word or not _keep(word):
            continue
        parts = [p for p in jieba.cut_for_search(word) if p != word and len(p) > 1]
        covered: set[int] = set()
        for part in parts:
            start = word.find(part)
            covered.update(range(start, start + len(part)))
        pieces = parts if parts and covered == set(range(len(word))) else [word]
        for piece in pieces:
            piece = _clean(piece)
            if piece and _keep(piece) and piece not in out:
                out.append(piece)
    return tuple(out)


def document_text(*parts: str | None) -> str:
    """The segmented document stored in the index: tokens joined by single spaces."""
    return " ".join(t for part in parts if part for t in document_tokens(part))


def token_set(text: str | None) -> frozenset[str]:
    return frozenset(document_tokens(text or ""))
