"""The desk says which of the newsroom's languages have no model, and the one command that
installs them (issue 30, item 7, in part): "every installed language is requested" alone
left editors wondering where Bengali was."""

from __future__ import annotations

import re

from tests.conftest import auth_headers


def test_the_desk_names_languages_without_a_model_and_the_install_command(make_app,
                                                                          sample_article):
    app = make_app()  # en->hi, en->ur, en->ta installed
    client = app.test_client()
    client.post("/api/v1/articles", json={**sample_article, "languages": ["hi"]},
                headers=auth_headers(app))
    form = client.get("/editor/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf" value="([^"]+)"', form).group(1)
    token = auth_headers(app)["Authorization"].split()[1]
    assert client.post("/editor/login", data={"csrf": csrf, "token": token}).status_code == 302
    desk = client.get("/editor/").get_data(as_text=True)
    assert "No model installed yet for Bangla (bn), Telugu (te)" in desk \
        or "No model installed yet for Bengali (bn), Telugu (te)" in desk
    assert "localise models download --languages bn,te,mr,gu,kn,ml,pa" in desk
    assert "Hindi (hi)" not in desk.split("No model installed yet")[1].split("</p>")[0]
