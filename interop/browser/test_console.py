"""The admin console in headless Chromium, following the seeds' Org2Org setup: the hub
(Org2, the service provider) adds Dropbox Business from the catalog and makes an API
token; the spoke (Org1) adds Okta Org2Org with the hub's URL, its Hub ACS URL and Audience
URI, configures the API integration with Test API Credentials, turns on the To App
options and assigns the Contractors group with initial status active_with_pass; Sarah
then sees the tile, and the provisioning worker creates her in the hub. Then the refusals:
a read-only admin changes nothing, a plain user never reaches /admin, a form without its
CSRF token is refused. Every step leaves a screenshot in target/browser-artifacts/.

The hub then adds the spoke as a SAML 2.0 identity provider (Security > Identity
Providers) with the issuer, SSO URL and certificate from the Org2Org app's setup
instructions, JIT and automatic linking; the spoke copies the hub's ACS URL and Audience
URI from the IdP's page into the Org2Org app's Advanced Sign-on Settings; Sarah clicks the
Org2Org tile and lands signed in on the hub's dashboard. With the IdP deactivated, the
same click ends on a readable error page naming the reason, and the hub's System Log says
which check failed.
"""

import time

from steps import sign_in


def open_catalog_and_add(b, org, search, entry):
    b.get(f"{org.base}/admin/dashboard")
    b.click("a[href='/admin/apps/active']")
    b.click("#browse-catalog")
    b.fill("#catalog-q", search)
    b.click("#catalog-search")
    b.find(f"#entry-{entry}")
    b.screenshot(f"catalog-search-{entry}")
    b.click(f"#add-{entry}")
    b.find("#wizard-next")


def wait_for_url(b, prefix, timeout=20):
    """Wait until the browser has followed redirects and auto-posted forms to `prefix`."""
    deadline = time.time() + timeout
    while not b.current_url.startswith(prefix):
        assert time.time() < deadline, f"still at {b.current_url}, expected {prefix}"
        time.sleep(0.1)
    b.find("body")


def app_id_from_url(url):
    return url.split("/admin/app/")[1].split("/")[0]


def test_org2org_seed_walkthrough(orgs, browser):
    spoke, hub = orgs["spoke"], orgs["hub"]

    # --- Org2 (hub): Dropbox Business from the catalog; an API token for the spoke --------
    h = browser("hub-admin")
    sign_in(h, hub, "admin@org2.example")
    h.click("#admin-link")
    h.find("nav[aria-label='Admin menu']")
    h.screenshot("dashboard")
    h.resize(390, 844)
    h.get(f"{hub.base}/admin/apps/catalog")
    h.find("#catalog")
    h.screenshot("catalog-390px")
    h.resize(1280, 900)
    open_catalog_and_add(h, hub, "Dropbox Business", "dropbox_for_business")
    assert h.value("#label") == "Dropbox Business"
    h.screenshot("wizard-general-settings")
    h.click("#wizard-next")
    h.find("#wizard-done")
    h.screenshot("wizard-sign-on-options")
    h.click("#wizard-done")
    h.find("#tab-general[aria-current='page']")
    assert "Dropbox Business added." in h.text("[role=status]")
    h.screenshot("dropbox-general")
    h.click("#tab-signon")
    h.find("#view-setup-instructions")
    h.screenshot("dropbox-sign-on")

    h.get(f"{hub.base}/admin/access/api/tokens")
    h.click("#create-token", nav=False)
    h.fill("#token-name", "Org2Org provisioning")
    h.click("#save-token")
    token = h.text("#new-token").strip()
    assert len(token) > 30
    h.screenshot("api-token-shown-once")
    h.get(f"{hub.base}/admin/access/api/tokens")
    h.find("#tokens")
    assert token not in h.source, "the API token is shown only once"
    h.screenshot("api-token-list")

    # --- Org1 (spoke): Okta Org2Org from the catalog ------------------------------------
    s = browser("spoke-admin")
    sign_in(s, spoke, "admin@org1.example")
    open_catalog_and_add(s, spoke, "Okta Org2Org", "okta_org2org")
    s.fill("#settings-app-baseUrl", "javascript:alert(1)")
    s.click("#wizard-next")
    assert "http" in s.text("#settings-app-baseUrl-error"), "the refusal is next to the field"
    s.screenshot("wizard-base-url-refused")
    s.fill("#settings-app-baseUrl", hub.base)
    s.check("#visibility-autoSubmitToolbar")
    s.screenshot("wizard-general-settings")
    s.click("#wizard-next")
    s.find("#mode-saml")
    hub_acs = f"{hub.base}/sso/saml2/0oaSPOKEIDP"
    audience = "https://www.okta.com/saml2/service-provider/spoke-org1"
    s.fill("#settings-app-acsUrl", hub_acs)
    s.fill("#settings-app-audRestriction", audience)
    s.screenshot("wizard-sign-on-options-advanced")
    s.click("#wizard-done")
    s.find("#tab-general[aria-current='page']")
    app_id = app_id_from_url(s.current_url)
    s.screenshot("org2org-general")

    # Sign On: setup instructions, metadata and certificate, Hub ACS URL and Audience URI
    s.click("#tab-signon")
    assert s.value("#settings-app-acsUrl") == hub_acs
    assert s.value("#settings-app-audRestriction") == audience
    assert s.attribute("#view-setup-instructions", "href").endswith(f"/app/okta_org2org/{app_id}/setup/help/SAML_2_0/instructions")
    assert s.attribute("#download-cert", "href").endswith(f"/app/okta_org2org/{app_id}/setup/cert.pem")
    s.screenshot("org2org-sign-on")
    s.click("#view-setup-instructions")
    s.find("#idp-sso-url")
    assert "BEGIN CERTIFICATE" in s.text("#idp-cert")
    s.screenshot("org2org-setup-instructions")
    spoke_issuer, spoke_sso, spoke_cert = s.text("#idp-issuer").strip(), s.text("#idp-sso-url").strip(), s.text("#idp-cert").strip()

    # --- Org2 (hub): Security > Identity Providers > Add identity provider > SAML 2.0 IdP --
    h.get(f"{hub.base}/admin/dashboard")
    h.click("a[href='/admin/access/identity-providers']")
    h.find("#idps")
    h.screenshot("identity-providers")
    h.click("#add-idp")
    assert h.selected("#idp-type-saml2"), "SAML 2.0 IdP is the type to select"
    h.screenshot("add-identity-provider-type")
    h.click("#idp-type-next")
    h.fill("#idp-name", "Org1")
    h.click("#idp-usage-sso", nav=False)
    assert h.value("#idp-username") == "idpuser.subjectNameId"
    h.choose("#idp-link", "AUTO")
    h.click("#idp-nomatch-auto", nav=False)
    h.fill("#idp-issuer", spoke_issuer)
    h.fill("#idp-sso-url", "javascript:alert(1)")
    h.fill("#idp-certificate", spoke_cert)
    h.click("#idp-finish")
    assert "http" in h.text("#idp-sso-url-error"), "the refusal is next to the field"
    assert h.value("#idp-name") == "Org1", "what was typed is kept"
    h.screenshot("add-saml-idp-refused")
    assert hub.api("GET", "/api/v1/idps").json() == [], "nothing saved on error"
    h.fill("#idp-sso-url", spoke_sso)
    if not h.value("#idp-certificate"):
        h.fill("#idp-certificate", spoke_cert)
    h.screenshot("add-saml-idp")
    h.click("#idp-finish")
    hub_acs, audience = h.text("#acs-url").strip(), h.text("#audience-uri").strip()
    assert hub_acs.startswith(f"{hub.base}/sso/saml2/") and audience
    assert h.exists("button.copy[data-copy='acs-url']") and h.exists("button.copy[data-copy='audience-uri']")
    assert h.attribute("#download-metadata", "href").endswith("/metadata")
    h.screenshot("idp-sp-metadata")
    idp = hub.api("GET", "/api/v1/idps").json()[0]
    assert idp["policy"]["provisioning"]["action"] == "AUTO" and idp["policy"]["accountLink"]["action"] == "AUTO"
    assert idp["protocol"]["credentials"]["trust"]["issuer"] == spoke_issuer
    h.click("#edit-mappings")
    assert h.value("#map-firstName") == "idpuser.firstName"
    h.screenshot("idp-profile-mappings")

    # --- Org1 (spoke): the hub's ACS URL and Audience URI in Advanced Sign-on Settings ---
    s.get(f"{spoke.base}/admin/app/{app_id}/signon")
    s.fill("#settings-app-acsUrl", hub_acs)
    s.fill("#settings-app-audRestriction", audience)
    s.screenshot("org2org-advanced-sign-on-settings")
    s.click("#save-signon")
    s.get(f"{spoke.base}/admin/app/{app_id}/signon")
    assert s.value("#settings-app-acsUrl") == hub_acs
    assert s.value("#settings-app-audRestriction") == audience

    # Provisioning > Integration: a wrong token is refused with what the hub answered
    s.get(f"{spoke.base}/admin/app/{app_id}/provisioning")
    s.screenshot("provisioning-not-configured")
    s.click("#configure-api-integration")
    s.check("#enabled")
    s.fill("#baseUrl", hub.base)
    s.fill("#token", "not-the-token")
    s.click("#test-api-credentials")
    assert "401" in s.text("#test-result"), s.text("#test-result")
    s.screenshot("provisioning-test-refused")
    s.fill("#token", token)
    s.click("#test-api-credentials")
    assert "verified successfully" in s.text("#test-result")
    assert s.value("#token") == "" and token not in s.source, "the API token is never rendered back"
    assert s.selected("#enabled"), "what the admin entered is kept, the token excepted"
    s.screenshot("provisioning-test-verified")
    s.click("#save-integration")
    assert "API integration enabled." in s.text("[role=status]")
    assert s.selected("#enabled")
    assert s.text("#integration-status") == "Enabled"
    # To App: read-only until Edit
    assert not s.exists("#save-to-app")
    s.click("#edit-to-app")
    for f in ("create", "update", "deactivate"):
        s.check(f"#feature-{f}")
    s.check("#feature-password", False)
    s.screenshot("provisioning-to-app")
    s.click("#save-to-app")
    assert "Provisioning to App saved." in s.text("[role=status]")
    assert all(s.selected(f"#feature-{f}") for f in ("create", "update", "deactivate"))
    assert not s.selected("#feature-password")

    # Directory > Groups: Contractors with Sarah
    s.get(f"{spoke.base}/admin/groups")
    s.click("#add-group", nav=False)
    s.fill("#name", "Contractors")
    s.fill("#description", "All Contractors")
    s.click("#save-group")
    s.fill("#member", "sarah@org1.example")
    s.click("#add-member")
    assert "sarah@org1.example" in s.text("#members")
    s.screenshot("group-contractors")

    # Assignments: Assign to Groups, initial status active_with_pass
    s.get(f"{spoke.base}/admin/app/{app_id}/assignments")
    s.click("#assign-menu", nav=False)
    s.click("#assign-groups", nav=False)
    gid = s.execute(
        "return [...document.querySelectorAll('#group-choices > li')].find(li => li.textContent.includes('Contractors'))"
        ".querySelector('summary').id.replace('assign-group-', '')"
    )
    s.screenshot("assign-to-groups")
    s.click(f"#assign-group-{gid}", nav=False)
    s.choose(f"#initialStatus-{gid}", "active_with_pass")
    s.screenshot("assign-to-groups-initial-status")
    s.click(f"#save-assign-group-{gid}")
    assert "Group assigned." in s.text("[role=status]")
    assert s.text("#assigned-groups .initial-status") == "active_with_pass"
    s.click("#assign-menu", nav=False)
    s.click("#assign-groups", nav=False)
    assert s.text(f"#assigned-{gid}") == "Assigned"
    s.screenshot("assignments")

    # the same page at a phone's width
    s.resize(390, 844)
    s.get(f"{spoke.base}/admin/app/{app_id}/provisioning?edit=to-app")
    s.find("#save-to-app")
    s.screenshot("provisioning-390px")
    s.resize(1280, 900)

    # --- Sarah: the tile, and her account pushed into the hub --------------------------
    u = browser("sarah")
    sign_in(u, spoke, "sarah@org1.example")
    tile = u.find(f"#tile-{app_id}")
    assert u.text(f"#tile-{app_id}") == "Okta Org2Org"
    u.screenshot("dashboard-tile")
    assert tile, "the Org2Org tile is on Sarah's dashboard"

    deadline = time.time() + 60
    while True:
        r = hub.api("GET", "/api/v1/users", params={"filter": 'profile.login eq "sarah@org1.example"'})
        found = r.json() if r.status_code == 200 else []
        if found:
            break
        assert time.time() < deadline, f"Sarah was not provisioned into the hub: {r.status_code} {r.text[:300]}"
        time.sleep(0.5)
    assert found[0]["status"] == "ACTIVE", "initial status active_with_pass"
    h.get(f"{hub.base}/admin/users?q=sarah")
    assert "sarah@org1.example" in h.text("#people")
    h.screenshot("hub-people-sarah-provisioned")

    # --- Sarah: the Org2Org tile signs her in to the hub ---------------------------------
    u.get(f"{spoke.base}/app/UserHome")
    u.click(f"#tile-{app_id}")
    wait_for_url(u, f"{hub.base}/app/UserHome")
    assert u.text("#current-user") == "sarah@org1.example"
    u.screenshot("hub-dashboard-via-org2org")
    h.get(f"{hub.base}/admin/idp/{idp['id']}")
    assert "sarah@org1.example" in h.text("#idp-users")
    h.screenshot("idp-linked-users")

    # --- a refused sign-in: the IdP deactivated, the page names the reason ----------------
    h.get(f"{hub.base}/admin/access/identity-providers")
    h.click(f"#deactivate-{idp['id']}", nav=False)
    h.screenshot("idp-deactivate-confirm")
    h.click(f"#confirm-deactivate-{idp['id']}")
    assert "deactivated" in h.text("[role=status]")
    u.get(f"{spoke.base}/app/UserHome")
    u.click(f"#tile-{app_id}")
    wait_for_url(u, hub_acs)
    u.find("h1")
    assert "idp_inactive" in u.source, "the error page names the reason"
    u.screenshot("hub-sign-in-refused")
    h.get(f"{hub.base}/admin/reports/system-log?filter=" + 'eventType eq "user.authentication.auth_via_IDP"')
    assert "Failed check" in h.text("#events")
    h.screenshot("system-log-failed-check")


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
