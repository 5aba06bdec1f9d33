"""Issue 22.3: the desk's cards show the appeal's first lines; newest and oldest both reachable with paging and
counts; an action comes back to the tab it was taken from; counts agree with the lists right after an action."""

import re

from tests.factories import PASSWORD


def login(client, username):
    client.post("/login", data={"username": username, "password": PASSWORD})


def tab_of(page: str, name: str) -> str:
    return page.split(f'id="{name}" role="tabpanel"')[1].split('role="tabpanel"')[0]


def numbers_in(html: str) -> list[str]:
    """The ticket of each card, in order (a card's first link; its duplicate hints link to others)."""
    return [
        re.search(r'class="tracking-no" href="/tickets/(\d+)"', card).group(1)
        for card in html.split('<article class="card')[1:]
    ]


def test_cards_show_the_first_lines_of_the_appeal(client, world):
    world.ticket_in("pending_dispatch", body="人民路12号门前的井盖缺失，晚上看不见，已经有人摔倒。" * 5)
    world.ticket_in("return_requested", body="这条回单说的是噪音扰民，不在本单位。")
    login(client, "dispatcher")
    page = client.get("/dispatch").get_data(as_text=True)
    lines = re.findall(r'data-testid="appeal-lines">([^<]*)<', tab_of(page, "pending"))
    assert lines and lines[0].startswith("人民路12号门前的井盖缺失") and lines[0].endswith("…") and len(lines[0]) <= 121
    assert "这条回单说的是噪音扰民" in tab_of(page, "returns")


def test_each_tab_pages_oldest_or_newest_first_with_counts(client, world, monkeypatch):
    from hotline.tickets import queues

    monkeypatch.setattr(queues, "DESK_SIZE", 2)
    tickets = [
        world.ticket_in(
            "pending_dispatch", citizen_phone=f"1390000000{i}", address=f"{i}号", title=f"诉求{i}", body=f"第{i}件事。"
        )
        for i in range(5)
    ]
    urgent = world.ticket_in(
        "pending_dispatch", urgency="urgent", citizen_phone="13900000009", address="九号", title="急事", body="很急。"
    )
    login(client, "dispatcher")
    order = [urgent] + tickets  # working order: the urgent one, then oldest first
    seen = []
    for page_no in (1, 2, 3):
        page = client.get(f"/dispatch?tab=pending&page={page_no}").get_data(as_text=True)
        pending = tab_of(page, "pending")
        seen += [n for n in numbers_in(pending)]
        first = (page_no - 1) * 2 + 1
        assert f"第 {first}–{first + 1} 条，共 6 条" in pending
    assert seen == [t.tracking_no for t in order]
    newest = tab_of(client.get("/dispatch?tab=pending&sort=newest").get_data(as_text=True), "pending")
    assert numbers_in(newest) == [urgent.tracking_no, tickets[4].tracking_no]
    assert re.search(r'active" aria-current="true"\s+href="/dispatch\?tab=pending&amp;sort=newest">最新在前', newest)
    page = client.get("/dispatch?tab=pending&page=2").get_data(as_text=True)
    assert 'rel="prev"' in tab_of(page, "pending") and 'rel="next"' in tab_of(page, "pending")
    assert 'href="/dispatch?tab=pending&amp;sort=oldest&amp;page=3" rel="next"' in page
    beyond = tab_of(client.get("/dispatch?tab=pending&page=9").get_data(as_text=True), "pending")
    assert "6 件" in beyond and "第 " not in beyond and 'rel="prev"' in beyond
    assert client.get("/dispatch?page=0").status_code == 400  # a page that cannot exist is named


def test_an_action_comes_back_to_its_tab_with_counts_that_agree(client, world, app, monkeypatch):
    monkeypatch.setitem(app.config, "TICKET_COUNTS_SECONDS", 60)  # the list's counts are reused; the desk's not
    app.extensions.pop("hotline_live", None)
    first, second = world.ticket_in("return_requested"), world.ticket_in("return_requested")
    login(client, "dispatcher")
    page = client.get("/dispatch?tab=returns").get_data(as_text=True)
    assert 'href="#returns" role="tab"\n     aria-controls="returns" aria-selected="true"' in page
    assert 'data-testid="total-returns">2<' in page
    form = re.search(r'action="/tickets/' + first.tracking_no + r'/actions/approve_return".*?</form>', page, re.S)
    assert form and 'name="tab" value="returns"' in form.group(0)
    version = re.search(r'name="version" value="(\d+)"', form.group(0)).group(1)
    response = client.post(
        f"/tickets/{first.tracking_no}/actions/approve_return",
        data={"version": version, "next": "dispatch", "tab": "returns", "note": ""},
    )
    assert response.status_code == 302 and response.headers["Location"].endswith("/dispatch?tab=returns")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'data-testid="total-returns">1<' in page
    assert numbers_in(tab_of(page, "returns")) == [second.tracking_no]
    assert 'data-testid="total-pending">1<' in page  # the approved return waits for dispatch again
    assert first.tracking_no in tab_of(page, "pending")
