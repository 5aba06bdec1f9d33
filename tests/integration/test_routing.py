"""Smart dispatch: the classifier learns from closed tickets, beats the majority class, is stored and
suggests a unit with a confidence; below the threshold the routing catalogue answers."""

import random

from hotline.demo.data import APPEALS
from hotline.extensions import db
from hotline.orgs.models import UnitKind
from hotline.orgs.services import create_unit
from hotline.search import routing
from hotline.search.models import RoutingModel
from hotline.tickets.models import Category, CategoryRoute
from hotline.tickets.services import apply_transition, register_ticket
from tests.factories import PASSWORD, appeal

CODES = ["0501", "0404", "0106", "0101", "0601", "0703"]


def closed_history(world, per_category=7, seed=3):
    """Closed tickets from the demo appeal texts: each category has its own unit."""
    rng = random.Random(seed)
    setup = {}
    for i, code in enumerate(CODES):
        category = Category(code=f"9{code}", name=f"类别{code}", parent_id=world.parent_category.id)
        db.session.add(category)
        unit = create_unit(f"d1-dept{i}", f"部门{i}", UnitKind.DEPARTMENT, world.district)
        db.session.add(CategoryRoute(category=category, district=world.district, unit=unit))
        setup[code] = (category, unit)
    db.session.flush()
    texts = [a for a in APPEALS if a[0] in CODES]
    for _ in range(per_category):
        for code, _type, _urgency, title, body in texts:
            category, unit = setup[code]
            text = body.format(road=rng.choice(["人民路", "解放大道"]), estate="阳光花园", community="柳岸社区")
            ticket = register_ticket(
                appeal(
                    world,
                    title=title,
                    body=text,
                    category_id=category.id,
                    citizen_phone=f"139{rng.randint(0, 99999999):08d}",
                ),
                world.operator,
                "register",
            )
            apply_transition(ticket, "dispatch", world.dispatcher, lead_unit=unit)
            ticket.status = "closed"  # the rest of the life is not what routing learns from
    db.session.commit()
    return setup


def test_classifier_beats_the_majority_class(world):
    closed_history(world)
    result = routing.evaluate()
    assert result.test >= 10
    assert result.category_accuracy > result.category_baseline
    assert result.unit_accuracy > result.unit_baseline
    assert result.category_accuracy >= 0.8


def test_trained_model_suggests_category_and_unit_with_a_confidence(world, app):
    setup = closed_history(world)
    runner = app.test_cli_runner()
    out = runner.invoke(args=["routing", "train"])
    assert out.exit_code == 0 and "trained on" in out.output
    assert db.session.execute(db.select(RoutingModel)).scalar_one().samples > 0
    noise_category, noise_unit = setup["0404"]
    pending = register_ticket(
        appeal(world, title="广场舞音响噪音扰民", body="每天晚上广场舞音响声音过大，影响休息。", category_id=None),
        world.operator,
        "register",
    )
    db.session.commit()
    suggestion = routing.suggest_route(pending)
    assert suggestion.category.id == noise_category.id and suggestion.unit.id == noise_unit.id
    assert suggestion.source == "model" and suggestion.unit_confidence >= routing.MIN_CONFIDENCE
    # nonsense text: low confidence, the catalogue entry of the ticket's own category is offered
    vague = register_ticket(appeal(world, title="来电", body="嗯嗯好的"), world.operator, "register")
    db.session.commit()
    fallback = routing.suggest_route(vague)
    assert fallback.source == "catalogue" and fallback.unit.id == world.department.id
    evaluated = runner.invoke(args=["routing", "evaluate"])
    assert evaluated.exit_code == 0 and "lead unit accuracy" in evaluated.output


def test_the_desk_preselects_the_models_unit_and_says_what_the_text_reads_like(world, app, client):
    setup = closed_history(world)
    assert app.test_cli_runner().invoke(args=["routing", "train"]).exit_code == 0
    noise_category, noise_unit = setup["0404"]
    pending = register_ticket(
        appeal(world, title="广场舞音响噪音扰民", body="每天晚上广场舞音响声音过大，影响休息。"),
        world.operator,
        "register",
    )  # filed under the world's own category
    db.session.commit()
    route = routing.suggest_route(pending)
    client.post("/login", data={"username": "dispatcher", "password": PASSWORD})
    page = client.get("/dispatch").get_data(as_text=True)
    card = page[page.index(pending.tracking_no) :]
    card = card[: card.index("</article>")]
    assert f'<option value="{noise_unit.id}" selected>' in card
    assert (
        f'<span class="badge text-bg-info" data-testid="smart-route" title="根据已办结工单学习">'
        f"推荐 {route.unit_confidence * 100:.0f}%</span>"
    ) in card
    assert (
        f'<div class="small text-body-secondary">内容更像“{noise_category.full_name}”'
        f"（{route.category_confidence * 100:.0f}%）。</div>" in card
    )


def test_without_a_model_the_catalogue_answers(world):
    ticket = world.ticket_in("pending_dispatch")
    suggestion = routing.suggest_route(ticket)
    assert suggestion.source == "catalogue" and suggestion.unit.id == world.department.id
    assert routing.train_routing_model() is None  # too few closed tickets to learn from


def test_retrain_task_stores_a_model(world):
    closed_history(world, per_category=5)
    from workers.tasks import retrain_routing

    model_id = retrain_routing.run()  # the body, in this app context (the worker wraps it in its own)
    assert db.session.get(RoutingModel, model_id) is not None


def _returned_by(ticket, unit, world):
    """Dispatched to ``unit``, which says it is not its work (不在我单位辖区), and the dispatcher agrees."""
    apply_transition(ticket, "dispatch", world.dispatcher, lead_unit=unit)
    apply_transition(ticket, "request_return", world.district_handler, note="不在我单位辖区")
    apply_transition(ticket, "approve_return", world.dispatcher)
    db.session.commit()


def test_a_unit_whose_return_was_approved_is_never_suggested_again(world, app, client):
    setup = closed_history(world)
    assert app.test_cli_runner().invoke(args=["routing", "train"]).exit_code == 0
    _noise_category, noise_unit = setup["0404"]
    pending = register_ticket(
        appeal(world, title="广场舞音响噪音扰民", body="每天晚上广场舞音响声音过大，影响休息。"),
        world.operator,
        "register",
    )
    db.session.commit()
    before = routing.suggest_route(pending)
    assert before.unit.id == noise_unit.id and before.unit_confidence >= routing.MIN_CONFIDENCE

    _returned_by(pending, noise_unit, world)
    after = routing.suggest_route(pending)
    assert after.unit is None or after.unit.id != noise_unit.id
    # The model has nothing else it believes in: the catalogue's entry for the ticket's category is offered.
    assert after.source == "catalogue" and after.unit.id == world.department.id
    assert routing.suggest_routes([pending])[pending.id].unit.id != noise_unit.id  # the desk's batch, too

    # The catalogue's unit returns it as well: no suggestion rather than one the dispatcher already heard "no" from.
    _returned_by(pending, world.department, world)
    last = routing.suggest_route(pending)
    assert last.unit is None
    from hotline.tickets.handling import suggested_unit

    assert suggested_unit(pending) is None

    client.post("/login", data={"username": "dispatcher", "password": PASSWORD})
    page = client.get("/dispatch").get_data(as_text=True)
    card = page[page.index(pending.tracking_no) :]
    card = card[: card.index("</article>")]
    assert f'<option value="{noise_unit.id}" selected>' not in card
    assert f'<option value="{world.department.id}" selected>' not in card
    assert 'data-testid="smart-route"' not in card
    detail = client.get(f"/tickets/{pending.tracking_no}").get_data(as_text=True)
    assert 'data-testid="smart-route"' not in detail and f'<option value="{noise_unit.id}" selected>' not in detail


def test_other_tickets_keep_the_returned_units_suggestion(world, app):
    setup = closed_history(world)
    assert app.test_cli_runner().invoke(args=["routing", "train"]).exit_code == 0
    _noise_category, noise_unit = setup["0404"]
    texts = dict(title="广场舞音响噪音扰民", body="每天晚上广场舞音响声音过大，影响休息。")
    returned = register_ticket(appeal(world, **texts), world.operator, "register")
    fresh = register_ticket(appeal(world, **texts, citizen_phone="13900001111"), world.operator, "register")
    db.session.commit()
    _returned_by(returned, noise_unit, world)
    routes = routing.suggest_routes([returned, fresh])
    assert routes[returned.id].unit.id != noise_unit.id
    assert routes[fresh.id].unit.id == noise_unit.id and routes[fresh.id].source == "model"
