"""Segmentation and highlighting on real appeal sentences (no database)."""

from hotline.search.segment import document_tokens, query_tokens
from hotline.search.services import highlight, similarity, snippet


def test_documents_index_long_words_and_the_words_inside_them():
    assert {"小区", "物业", "乱收费", "收费"} <= set(document_tokens("小区物业乱收费"))
    assert {"噪音", "扰民"} <= set(document_tokens("噪音扰民"))
    assert {"拖欠", "工资", "拖欠工资"} <= set(document_tokens("拖欠工资"))


def test_queries_are_cut_into_the_shortest_covering_words():
    assert query_tokens("拖欠工资") == ("拖欠", "工资")
    assert query_tokens("噪音扰民") == ("噪音", "扰民")
    assert set(query_tokens("小区物业乱收费")) >= {"小区", "物业", "收费"}
    # every query word is something the document side indexes, so a query finds its own sentence
    for sentence in ("小区物业乱收费", "噪音扰民", "拖欠工资", "楼上装修噪音很大，晚上十点以后还在施工"):
        assert set(query_tokens(sentence)) <= set(document_tokens(sentence))


def test_stopwords_and_punctuation_are_dropped():
    tokens = document_tokens("请问，我们小区的物业费是否合理？")
    assert "，" not in tokens and "的" not in tokens and "请问" not in tokens and "物业费" in tokens


def test_highlight_escapes_html_and_marks_words():
    out = str(highlight("<b>物业</b>乱收费 & 噪音", ("物业", "噪音")))
    assert out == "&lt;b&gt;<mark>物业</mark>&lt;/b&gt;乱收费 &amp; <mark>噪音</mark>"


def test_snippet_is_a_window_around_the_first_match():
    text = "前言" * 100 + "工地拖欠工资三个月" + "后记" * 100
    out = str(snippet(text, ("拖欠", "工资"), width=40))
    assert out.startswith("…") and out.endswith("…") and "<mark>拖欠</mark><mark>工资</mark>" in out


def test_similarity_is_cosine_over_token_sets():
    a, b = frozenset("物业 收费 小区".split()), frozenset("物业 收费 上调".split())
    assert similarity(a, b) == 2 / 3 and similarity(a, frozenset()) == 0.0 and similarity(a, a) == 1.0
