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
    data = {"kind": "policy", "title": "物业费调价程序", "body": "调整物业费须经业主大会表决同意。",
            "question": "物业乱收费怎么办", "source": "住宅物业管理条例", "category_id": "",
            "effective_from": "", "effective_until": ""}
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
    fragment = client.get("/search/assist", query_string={"title": "咨询低保申请条件", "body": "想了解低保怎么申请"}) \
        .get_data(as_text=True)
    assert "最低生活保障（低保）申请条件和办理流程" in fragment and 'data-kb-insert="note"' in fragment
    assert "燃气泄漏" not in client.get("/search/assist?kb=燃气").get_data(as_text=True)
    article = db.session.execute(db.select(KnowledgeArticle).filter_by(
        title="最低生活保障（低保）申请条件和办理流程")).scalar_one()
    ticket = register_ticket(appeal(world, appeal_type="consultation", title="咨询低保"), world.operator,
                             "answer_directly", note=quoted_text(article))
    db.session.commit()
    event = db.session.execute(db.select(TicketEvent).filter_by(ticket_id=ticket.id,
                                                                action="answer_directly")).scalar_one()
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
