"""Refusals in the browser: a read-only admin sees the app's tabs without a Save button
and a forged form is refused with nothing changed; a plain user never reaches /admin; a
form without its CSRF token is refused, and the same change goes through with it.
Screenshots in target/browser-artifacts/.
"""

from steps import sign_in


def test_read_only_admin_and_plain_user_are_refused(orgs, browser):
    spoke = orgs["spoke"]
    r = spoke.api("POST", "/api/v1/apps", json={"name": "bookmark", "label": "Wiki", "settings": {"app": {"url": "https://wiki.example"}}})
    assert r.status_code == 200, r.text
    app_id = r.json()["id"]

    v = browser("viewer")
    sign_in(v, spoke, "viewer@org1.example")
    for tab in ("general", "signon", "assignments"):
        v.get(f"{spoke.base}/admin/app/{app_id}/{tab}")
        v.find(f"#tab-{tab}[aria-current='page']")
        assert not v.exists("button[type=submit][id^=save-]"), f"{tab}: no Save for a read-only admin"
        assert not v.exists("#assign-groups") and not v.exists("#action-deactivate")
        v.screenshot(f"read-only-{tab}")
    v.get(f"{spoke.base}/admin/app/{app_id}/general")
    # forge the form anyway: the fields enabled, a Save button added, the real CSRF token kept
    v.execute(
        "const f = document.querySelector('form.form'); f.querySelectorAll('[disabled]').forEach(e => e.disabled = false);"
        "f.querySelector('#label').value = 'Hijacked';"
        "const b = document.createElement('button'); b.type = 'submit'; b.id = 'forged'; f.appendChild(b);"
    )
    v.click("#forged")
    assert "Not allowed" in v.text("h1")
    v.screenshot("read-only-refused")
    assert spoke.api("GET", f"/api/v1/apps/{app_id}").json()["label"] == "Wiki"
    v.get(f"{spoke.base}/admin/apps/catalog")
    assert not v.exists("#add-okta_org2org")

    p = browser("plain-user")
    sign_in(p, spoke, "sarah@org1.example")
    assert not p.exists("#admin-link")
    p.get(f"{spoke.base}/admin")
    assert "Administrators only" in p.text("h1")
    p.screenshot("plain-user-refused")
    p.get(f"{spoke.base}/admin/app/{app_id}/general")
    assert "Administrators only" in p.text("h1")


def test_a_form_without_its_csrf_token_is_refused(orgs, browser):
    spoke = orgs["spoke"]
    r = spoke.api("POST", "/api/v1/apps", json={"name": "bookmark", "label": "Intranet", "settings": {"app": {"url": "https://intranet.example"}}})
    app_id = r.json()["id"]
    a = browser("admin")
    sign_in(a, spoke, "admin@org1.example")
    a.get(f"{spoke.base}/admin/app/{app_id}/general")
    a.fill("#label", "Tampered")
    a.execute("document.querySelector('form.form input[name=csrf]').value = ''")
    a.click("#save-general")
    assert "Request refused" in a.text("h1")
    a.screenshot("csrf-refused")
    assert spoke.api("GET", f"/api/v1/apps/{app_id}").json()["label"] == "Intranet"
    # with the token the same change goes through
    a.get(f"{spoke.base}/admin/app/{app_id}/general")
    a.fill("#label", "Intranet home")
    a.click("#save-general")
    assert "Saved." in a.text("[role=status]")
    assert spoke.api("GET", f"/api/v1/apps/{app_id}").json()["label"] == "Intranet home"
