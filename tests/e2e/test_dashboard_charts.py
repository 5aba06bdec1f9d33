"""The supervisor's dashboard in Chromium: the charts are drawn (not blank), their numbers one click away;
the public statistics page draws its chart without signing in."""

from tests.e2e.conftest import screenshot
from tests.e2e.test_staff_journey import sign_in

# Counts the non-white pixels of each chart's canvas inside the page (no inline script on the site itself).
DRAWN_PIXELS = """() => Array.from(document.querySelectorAll('[data-chart] canvas')).map(canvas => {
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let ink = 0;
  for (let i = 0; i < data.length; i += 4) { if (data[i + 3] > 0 && (data[i] < 240 || data[i + 1] < 240 || data[i + 2] < 240)) ink++; }
  return ink;
})"""


def test_supervisor_dashboard_draws_every_chart(page, live_server):
    sign_in(page, live_server, "supervisor")
    page.goto(f"{live_server}/dashboard/")
    page.wait_for_selector("[data-chart][data-drawn=true] canvas")
    ink = page.evaluate(DRAWN_PIXELS)
    assert len(ink) == 6 and all(n > 500 for n in ink), ink  # intake, trend, categories, districts, ratings, calls
    ratings = page.evaluate("() => echarts.getInstanceByDom(document.getElementById('chart-ratings')).getOption()")
    assert all(s["stack"] == "all" for s in ratings["series"]) and ratings["yAxis"][0]["type"] == "category"
    assert sum(sum(s["data"]) for s in ratings["series"]) == sum(
        int(n) for n in page.locator("[data-rating-channel]").all_inner_texts()
    )
    option = page.evaluate("() => echarts.getInstanceByDom(document.getElementById('chart-intake')).getOption()")
    assert sum(sum(v or 0 for v in s["data"]) for s in option["series"]) > 0
    assert page.locator("#kpi-table tbody tr").count() > 3
    numbers = page.locator("#chart-intake ~ details")
    numbers.locator("summary").click()
    assert numbers.locator("table tbody tr").first.is_visible()
    screenshot(page, "dashboard")
    page.locator("#kpi-table").scroll_into_view_if_needed()
    screenshot(page, "dashboard-kpi-table")


def test_public_statistics_page(page, live_server):
    page.goto(f"{live_server}/public/stats")
    page.wait_for_selector("[data-chart][data-drawn=true] canvas")
    assert all(n > 500 for n in page.evaluate(DRAWN_PIXELS))
    assert page.locator("#public-units tbody tr").count() >= 1
    screenshot(page, "public-stats")


def test_handler_has_no_dashboard(page, live_server):
    sign_in(page, live_server, "handler")
    response = page.goto(f"{live_server}/dashboard/")
    assert response.status == 403
