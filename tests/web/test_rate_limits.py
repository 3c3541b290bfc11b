"""Rate limits for anonymous reads and for failed authentication, shared through Redis."""

from __future__ import annotations

from tests.conftest import auth_headers


def test_anonymous_reads_are_limited_but_token_holders_are_not(make_app):
    app = make_app(RATE_LIMIT_ANONYMOUS="5/minute")
    client = app.test_client()
    assert [client.get("/api/v1/health").status_code for _ in range(5)] == [200] * 5
    limited = client.get("/api/v1/languages")
    assert limited.status_code == 429
    assert limited.get_json()["error"]["code"] == "too_many_requests"
    assert int(limited.headers["Retry-After"]) > 0
    assert client.get("/").status_code == 429  # the budget covers pages too
    headers = auth_headers(app)
    assert all(client.get("/api/v1/health", headers=headers).status_code == 200
               for _ in range(10))


def test_token_guessing_is_cut_off(make_app, sample_article):
    app = make_app(RATE_LIMIT_AUTH_FAILURES="3/minute")
    client = app.test_client()
    wrong = {"Authorization": "Bearer lcl_0123456789abcdef.guess"}
    codes = [client.post("/api/v1/articles", json=sample_article, headers=wrong).status_code
             for _ in range(4)]
    assert codes == [401, 401, 401, 429]


def test_limits_are_shared_by_web_processes_through_redis(make_app, redis_url):
    first = make_app(redis_url=redis_url, RATE_LIMIT_ANONYMOUS="4/minute")
    second = make_app(redis_url=redis_url, RATE_LIMIT_ANONYMOUS="4/minute")
    codes = [app.test_client().get("/api/v1/health").status_code
             for app in (first, second, first, second, first)]
    assert codes == [200, 200, 200, 200, 429]


def test_every_write_endpoint_requires_a_token(make_app):
    app = make_app()
    client = app.test_client()
    writes = [(rule, method) for rule in app.url_map.iter_rules()
              if rule.rule.startswith("/api/v1/")
              for method in rule.methods & {"POST", "PUT", "PATCH", "DELETE"}]
    assert len(writes) == 12  # DELETE /articles/<slug> (takedown) is the twelfth
    for rule, method in writes:
        url = rule.rule.replace("<slug>", "s").replace("<lang>", "hi") \
            .replace("<int:position>", "0").replace("<token_id>", "t")
        response = client.open(url, method=method, json={})
        assert response.status_code == 401, (method, url, response.status_code)
        assert response.get_json()["error"]["code"] == "auth_required"


def test_only_a_valid_token_exempts_from_the_anonymous_budget(make_app):
    """Issue 12 item 5: any Authorization header used to exempt a request."""
    app = make_app(RATE_LIMIT_ANONYMOUS="5/minute")
    client = app.test_client()
    bogus = ["x", "Bearer nonsense", "Bearer lcl_0123456789abcdef.guess", "Basic eDp5", "x"]
    codes = [client.get("/api/v1/health", headers={"Authorization": header}).status_code
             for header in bogus]
    assert codes == [200] * 5
    assert client.get("/api/v1/health", headers={"Authorization": "x"}).status_code == 429
    assert client.get("/editor/login").status_code == 429  # the editor's pages count too
    assert client.get("/api/v1/health", headers=auth_headers(app)).status_code == 200


def test_failed_guesses_do_not_lock_out_a_valid_token_from_the_same_address(
        make_app, sample_article):
    app = make_app(RATE_LIMIT_AUTH_FAILURES="3/minute")
    client = app.test_client()
    wrong = {"Authorization": "Bearer lcl_0123456789abcdef.guess"}
    codes = [client.post("/api/v1/articles", json=sample_article, headers=wrong).status_code
             for _ in range(10)]
    assert codes[:3] == [401] * 3 and set(codes[3:]) == {429}
    good = client.post("/api/v1/articles", json={**sample_article, "languages": ["hi"]},
                       headers=auth_headers(app))
    assert good.status_code in (201, 202), good.get_json()
    assert client.post("/api/v1/articles", json=sample_article,
                       headers=wrong).status_code == 429  # the guesser stays cut off

    # The editor sign-in form: bad tokens are cut off, a good one still signs in.
    with app.extensions["db"].session() as session:
        from service.platform.tokens import create_token
        _, editor_token = create_token(session, "sign-in", "editor")
    browser = app.test_client()
    assert browser.get("/editor/login").status_code == 200  # the form still loads
    with browser.session_transaction() as cookie:
        csrf = cookie["csrf"]
    answer = browser.post("/editor/login", data={"csrf": csrf, "token": "lcl_bad.guess"})
    assert answer.status_code == 429
    answer = browser.post("/editor/login", data={"csrf": csrf, "token": editor_token})
    assert answer.status_code == 302


def test_embedded_web_processes_share_one_budget_through_the_data_folder(make_app,
                                                                         sample_article):
    """Issue 31, item 12: two web processes of one embedded `localise serve` (no Redis)
    count against the same budgets, kept in the data folder."""
    first = make_app(RATE_LIMIT_ANONYMOUS="4/minute", RATE_LIMIT_AUTH_FAILURES="3/minute")
    second = make_app(RATE_LIMIT_ANONYMOUS="4/minute", RATE_LIMIT_AUTH_FAILURES="3/minute")
    assert first.config["REDIS_URL"] == "" and first.config["DATA_DIR"] == \
        second.config["DATA_DIR"]
    codes = [app.test_client().get("/api/v1/health").status_code
             for app in (first, second, first, second, first)]
    assert codes == [200, 200, 200, 200, 429]
    wrong = {"Authorization": "Bearer lcl_0123456789abcdef.guess"}
    guesses = [app.test_client().post("/api/v1/articles", json=sample_article, headers=wrong,
                                      environ_base={"REMOTE_ADDR": "127.0.0.2"}).status_code
               for app in (second, first, second, first)]  # another address: fresh budgets
    assert guesses == [401, 401, 401, 429]
