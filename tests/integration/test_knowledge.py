"""Knowledge base: admins edit and publish, the public FAQ shows what is in force, the console suggests
articles, and an answer that quotes an article records it on its event."""

from datetime import date

from hotline.extensions import db
from hotline.knowledge.models import KnowledgeArticle
from hotline.knowledge.services import USE_FIELD, find_articles, quoted_text, seed_demo_articles
from hotline.tickets.models import TicketEvent
from hotline.tickets.services import apply_transition, register_ticket
from tests.factories import PASSWORD, appeal


def login(client, username):
    client.post("/login", data={"username": username, "password": PASSWORD})


def _create(client, **fields):
    data = {
        "kind": "policy",
        "title": "物业费调价程序",
        "body": "调整物业费须经业主大会表决同意。",
        "question": "物业乱收费怎么办",
        "source": "住宅物业管理条例",
        "category_id": "",
        "effective_from": "",
        "effective_until": "",
    }
    data.update(fields)
    return client.post("/knowledge/new", data=data)


def test_admin_writes_a_draft_and_publishes_it_to_the_faq(client, world):
    login(client, "admin")
    response = _create(client)
    assert response.status_code == 302
    article = db.session.execute(db.select(KnowledgeArticle)).scalar_one()
    assert article.state == "draft"
    assert "物业费调价程序" not in client.get("/faq/").get_data(as_text=True)
    assert client.get(f"/faq/{article.id}").status_code == 404
    client.post(f"/knowledge/{article.id}/publish")
    db.session.expire_all()
    assert db.session.get(KnowledgeArticle, article.id).state == "published"
    assert "物业费调价程序" in client.get("/faq/?q=物业费").get_data(as_text=True)
    client.post(f"/knowledge/{article.id}/retire")
    assert "物业费调价程序" not in client.get("/faq/").get_data(as_text=True)


def test_only_admins_edit(client, world):
    login(client, "operator")
    assert _create(client).status_code == 403
    assert client.get("/knowledge/").status_code == 200
    client.post("/logout")
    login(client, "district_handler")
    assert client.get("/knowledge/").status_code == 403


def test_invalid_dates_are_refused(client, world):
    login(client, "admin")
    response = _create(client, effective_from="2025-05-01", effective_until="2025-01-01")
    assert response.status_code == 400 and db.session.execute(db.select(KnowledgeArticle)).first() is None


def test_effective_dates_and_ranking(world):
    assert seed_demo_articles() >= 10 and seed_demo_articles() == 0
    db.session.commit()
    assert find_articles("小区物业乱收费")[0].article.title == "物业费调价需要经过哪些程序"
    assert find_articles("拖欠工资")[0].article.title.startswith("被拖欠工资怎么办")
    assert find_articles("燃气泄漏") == []  # a draft is not offered
    suggestions = find_articles("楼上邻居晚上装修噪音很大", whole_text=True)
    assert suggestions[0].article.title.startswith("社会生活噪音")
    article = db.session.execute(db.select(KnowledgeArticle).filter_by(title="物业费调价需要经过哪些程序")).scalar_one()
    article.effective_until = date(2000, 1, 1)
    db.session.commit()
    assert all(h.article.id != article.id for h in find_articles("物业费"))


def test_console_suggests_articles_and_a_direct_answer_records_the_one_used(client, world):
    seed_demo_articles()
    db.session.commit()
    login(client, "operator")
    fragment = client.get(
        "/search/assist", query_string={"title": "咨询低保申请条件", "body": "想了解低保怎么申请"}
    ).get_data(as_text=True)
    assert "最低生活保障（低保）申请条件和办理流程" in fragment and 'data-kb-insert="note"' in fragment
    assert "燃气泄漏" not in client.get("/search/assist?kb=燃气").get_data(as_text=True)
    article = db.session.execute(
        db.select(KnowledgeArticle).filter_by(title="最低生活保障（低保）申请条件和办理流程")
    ).scalar_one()
    ticket = register_ticket(
        appeal(world, appeal_type="consultation", title="咨询低保"),
        world.operator,
        "answer_directly",
        note=quoted_text(article),
    )
    db.session.commit()
    event = db.session.execute(
        db.select(TicketEvent).filter_by(ticket_id=ticket.id, action="answer_directly")
    ).scalar_one()
    assert event.data[USE_FIELD] == [article.id]
    assert article.reference in event.note


def test_a_reply_that_quotes_an_article_records_it(client, world):
    seed_demo_articles()
    db.session.commit()
    article = db.session.execute(db.select(KnowledgeArticle).filter_by(title="物业费调价需要经过哪些程序")).scalar_one()
    ticket = world.ticket_in("in_progress")
    login(client, "district_handler")
    page = client.get(f"/tickets/{ticket.tracking_no}").get_data(as_text=True)
    assert 'data-testid="kb-suggestions"' in page and article.title in page
    apply_transition(ticket, "reply", world.district_handler, body="经核查：" + quoted_text(article) + "。KB-9999")
    db.session.commit()
    event = db.session.execute(db.select(TicketEvent).filter_by(ticket_id=ticket.id, action="reply")).scalar_one()
    assert event.data[USE_FIELD] == [article.id]  # an unknown reference is not recorded


def test_public_home_links_the_faq(client, world):
    assert 'href="/faq/"' in client.get("/portal").get_data(as_text=True)


def _category(code, name, parent=None):
    from hotline.tickets.models import Category

    category = db.session.execute(db.select(Category).filter_by(code=code)).scalar_one_or_none()
    if category is None:
        category = Category(code=code, name=name, parent=parent)
        db.session.add(category)
        db.session.flush()
    return category


ELEVATOR = dict(
    title="小区电梯频繁故障",
    body="阳光花园5栋电梯近一个月故障七八次，老人上下楼困难，物业称维修资金不足，希望尽快协调维修。",
)


def _titles(hits):
    return [h.article.title for h in hits]


def test_hints_for_an_elevator_ticket_are_about_elevators_or_none(world):
    """Issue 22.8: an elevator complaint was offered 物业费, 噪音 and 失业 articles."""
    seed_demo_articles()
    elevator_article = db.session.execute(
        db.select(KnowledgeArticle).filter(KnowledgeArticle.title.startswith("电梯故障"))
    ).scalar_one()
    db.session.delete(elevator_article)
    db.session.commit()
    text = f"{ELEVATOR['title']} {ELEVATOR['body']}"
    # Without an elevator article: nothing, whatever the ticket is filed under (the demo files these under 物业管理).
    assert find_articles(text, world.category.id, whole_text=True) == []
    assert find_articles(text, None, whole_text=True) == []
    assert (
        find_articles(
            "电梯老是坏 我们小区5栋的电梯这个月坏了好几次，上周还关了人，物业说没钱修，老人上下楼很困难。",
            None,
            whole_text=True,
        )
        == []
    )

    safety = _category("0902", "电梯安全", _category("09", "公共安全"))
    db.session.add_all(
        [
            KnowledgeArticle(
                title="电梯困人怎么办",
                question="电梯故障把人困住了找谁",
                body="按应急呼叫按钮。",
                category_id=safety.id,
                state="published",
            ),
            KnowledgeArticle(
                title="特种设备安全监察投诉",
                question="电梯、锅炉等特种设备存在隐患怎么投诉",
                body="向区市场监督管理局投诉。",
                category_id=safety.id,
                state="published",
            ),
        ]
    )
    db.session.commit()
    for category_id in (world.category.id, safety.id, None):
        hits = find_articles(text, category_id, whole_text=True)
        assert hits and all(h.article.category_id == safety.id for h in hits), (category_id, _titles(hits))
        assert _titles(hits)[0] == "电梯困人怎么办"
    equipment = find_articles("商场扶梯 特种设备 安全隐患，扶梯运行时抖动", safety.id, whole_text=True)
    assert _titles(equipment) == ["特种设备安全监察投诉"]


def test_a_fee_ticket_gets_the_fee_article_and_nothing_unrelated(world):
    seed_demo_articles()
    db.session.commit()
    text = "小区物业乱收费 来电人反映阳光花园物业公司今年起擅自上调物业费，每平方米从1.2元涨到1.8元，未召开业主大会也未公示。"
    hits = _titles(find_articles(text, world.category.id, whole_text=True))
    assert hits[0] == "物业费调价需要经过哪些程序"
    assert not any(word in t for t in hits for word in ("低保", "噪音", "失业", "公租房", "社保", "电梯"))
    colloquial = _titles(find_articles("物业费又涨了 物业今年通知每平米涨五毛，也没开业主大会", None, whole_text=True))
    assert colloquial == ["物业费调价需要经过哪些程序"]


def test_a_text_with_nothing_relevant_gets_no_hint(world):
    seed_demo_articles()
    db.session.commit()
    for text in ("来电人反映小区门口的问题，希望相关部门尽快处理。", "咨询一下明天天气怎么样，谢谢", "嗯嗯好的"):
        assert find_articles(text, world.category.id, whole_text=True) == [], text
        assert find_articles(text, None, whole_text=True) == [], text
    # Words shared by chance (就业困难人员, 社会生活噪音) do not make the 失业 or 噪音 article a hint for a hardship call.
    hardship = _titles(find_articles("家里生活困难 老伴生病，家里生活很困难", None, whole_text=True))
    assert not any(word in t for t in hardship for word in ("失业", "噪音"))


def test_the_ticket_page_and_the_console_show_no_wrong_hint(client, world):
    seed_demo_articles()
    db.session.commit()
    ticket = world.ticket_in("in_progress", **ELEVATOR)
    login(client, "district_handler")
    page = client.get(f"/tickets/{ticket.tracking_no}").get_data(as_text=True)
    assert 'data-testid="kb-suggestions"' in page  # the demo's elevator article
    hints = page.split('data-testid="kb-suggestions"')[1].split("</div>")[0]
    assert "电梯故障、困人找谁" in hints
    for wrong in ("物业费调价", "社会生活噪音", "失业登记"):
        assert wrong not in hints
    client.post("/logout")
    login(client, "operator")
    fragment = client.get(
        "/search/assist", query_string={"title": "电梯老是坏", "body": "小区电梯这个月坏了好几次，还关了人"}
    ).get_data(as_text=True)
    assert "电梯故障、困人找谁" in fragment
    assert not any(wrong in fragment for wrong in ("物业费调价", "社会生活噪音", "失业登记", "公租房", "社保断缴"))
