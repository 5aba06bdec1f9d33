"""Issue 28.5: dates at the edges of Python's calendar (year 1, year 9999 with an offset) in every date filter
and deadline answer 400/422 naming the field, never a 500 (moving them to UTC overflowed)."""

import pytest

from tests.factories import PASSWORD
from tests.integration.api_helpers import token_for

EDGES_DAYS = ["0001-01-01", "9999-12-31", "1899-12-31"]
EDGES_MOMENTS = ["9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+14:00", "9999-01-01T00:00:00+00:00"]


@pytest.mark.parametrize("day", EDGES_DAYS)
def test_api_list_filters_refuse_days_beyond_the_service(client, world, day):
    for name in ("from", "to"):
        response = client.get(f"/api/v1/tickets?{name}={day}", headers=token_for(world.dispatcher))
        assert response.status_code == 422 and name in response.get_json()["error"]["fields"]


@pytest.mark.parametrize("moment", EDGES_MOMENTS)
def test_api_deadlines_refuse_moments_beyond_the_service(client, world, moment):
    ticket = world.ticket_in("in_progress")
    response = client.post(
        f"/api/v1/tickets/{ticket.tracking_no}/actions/request_extension",
        json={"new_deadline": moment, "note": "需要协调"},
        headers=token_for(world.district_handler),
    )
    assert response.status_code == 422 and "new_deadline" in response.get_json()["error"]["fields"]


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_dashboard_and_search_refuse_or_ignore_days_beyond_the_service(client, world, day):
    client.post("/login", data={"username": "supervisor", "password": PASSWORD})
    response = client.get(f"/dashboard/?from={day}&to={day}")
    assert response.status_code == 400 and "1900-01-01" in response.get_data(as_text=True)
    assert client.get(f"/api/v1/stats/units?from={day}&to={day}").status_code == 422
    assert client.get(f"/search/?q=路灯&from={day}&to={day}").status_code == 200  # the filter is dropped
    assert client.get(f"/dashboard/export/kpi.csv?from={day}&to={day}").status_code == 400
