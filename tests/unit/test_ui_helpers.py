"""Template helpers that stand in for per-row url_for and csrf_token calls give the same answers."""

from flask import url_for
from flask_wtf.csrf import generate_csrf

from hotline import create_app
from hotline.core.ui import csrf_token, ticket_url


def test_ticket_url_matches_url_for_under_a_mount_prefix():
    app = create_app("testing")
    with app.test_request_context("/", base_url="http://example.test/hotline"):
        for number in ("20261129000001", "a b/ç?#%"):  # odd characters are quoted as the route's converter does
            assert ticket_url(number) == url_for("tickets.detail", tracking_no=number)
            assert ticket_url(number, "dispatch") == url_for("tickets.act", tracking_no=number, action="dispatch")
        assert ticket_url("1").startswith("/hotline/tickets/")


def test_csrf_token_is_flask_wtfs_token_of_the_request():
    app = create_app("testing", WTF_CSRF_ENABLED=True)
    with app.test_request_context("/"):
        assert csrf_token() == generate_csrf() == csrf_token()
        assert app.jinja_env.globals["csrf_token"] is csrf_token
        context = {}
        app.update_template_context(context)  # what render_template passes, context processors included
        assert context["csrf_token"] is csrf_token
