"""The one action table (``hotline.tickets.actions``) covers what both doors and the OpenAPI document offer."""

from hotline.api.actions import ActionSchema
from hotline.tickets.actions import ACTIONS, API_ACTIONS, WEB_ACTIONS
from hotline.tickets.forms import ActionForm
from hotline.tickets.workflow import TRANSITIONS

# The API's action names are a contract with tools: renaming one breaks them.
API_NAMES = (
    "accept",
    "refuse",
    "answer_directly",
    "dispatch",
    "sign",
    "request_return",
    "judge_return",
    "pass_down",
    "note",
    "opinion",
    "request_extension",
    "judge_extension",
    "request_suspension",
    "judge_suspension",
    "resume",
    "reply",
    "review",
    "rate",
    "merge",
)


def test_every_transition_the_ticket_page_can_offer_is_in_the_table():
    # available_actions offers the transitions out of a ticket's status; those out of "new" only are intake's.
    offered = {t.action for t in TRANSITIONS.values() if t.sources - {None}}
    assert offered == set(WEB_ACTIONS)
    assert all(ACTIONS[name].chooses == () for name in WEB_ACTIONS)


def test_every_api_action_name_is_in_the_table_and_resolves_to_known_transitions():
    assert API_ACTIONS == API_NAMES
    for name in API_NAMES:
        assert set(ACTIONS[name].chooses) <= set(WEB_ACTIONS), name


def test_every_field_an_action_reads_is_in_its_doors_form_or_schema():
    schema_fields, form_fields = set(ActionSchema().fields), set(vars(ActionForm))
    for action in ACTIONS.values():
        if action.api:
            assert {"note", "version", *action.reads} <= schema_fields, action.name
        if action.web:
            # the web door reads a rating's comment from the page's note box
            assert {"note", "version", *action.reads} - {"comment"} <= form_fields, action.name


def test_the_openapi_action_enum_is_the_tables_api_names(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    operation = spec["paths"]["/api/v1/tickets/{tracking_no}/actions/{action}"]["post"]
    enum = next(p for p in operation["parameters"] if p["name"] == "action")["schema"]["enum"]
    assert tuple(enum) == API_ACTIONS
    assert all(f"`{name}`" in operation["description"] for name in API_ACTIONS)
