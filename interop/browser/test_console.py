"""The admin console in headless Chromium, following the seeds' Org2Org setup: the hub
(Org2, the service provider) adds Dropbox Business from the catalog and makes an API
token; the spoke (Org1) adds Okta Org2Org with the hub's URL, its Hub ACS URL and Audience
URI, configures the API integration with Test API Credentials, turns on the To App
options and assigns the Contractors group with initial status active_with_pass; Sarah
then sees the tile, and the provisioning worker creates her in the hub. Every step leaves
a screenshot in target/browser-artifacts/. (The refusals are in test_refusals.py, the end
user's MFA, Settings and error pages in test_end_user.py.)

The hub then adds the spoke as a SAML 2.0 identity provider (Security > Identity
Providers) with the issuer, SSO URL and certificate from the Org2Org app's setup
instructions, JIT and automatic linking; the spoke copies the hub's ACS URL and Audience
URI from the IdP's page into the Org2Org app's Advanced Sign-on Settings; Sarah clicks the
Org2Org tile and lands signed in on the hub's dashboard. With the IdP deactivated, the
same click ends on a readable error page naming the reason, and the hub's System Log says
which check failed.

Before that, the rest of the seeds' journey: the spoke imports a hub user (Import tab:
Import Now, review, Confirm Assignments) and pushes Contractors to the hub (Push Groups);
the hub assigns Dropbox Business to the pushed group, and Sarah's Dropbox tile on the hub
dashboard signs her in to Dropbox (python3-saml, strict, see dropbox_sp.py); a rotated
signing key is refused until Dropbox is given the new certificate. After it: the System
Log's time range and an event's detail, and a push that fails because the hub revoked the
spoke's token, shown in Tasks with the hub's answer and retried once the token is replaced.
On every screen the seeds describe, the fields they name are checked to be there.

Along the way, the screens the seeds show beside the setup: the Sign On tab's More
details, Disable Force Authentication, Password reveal and Dropbox's Silent Provisioning;
the Assignments tab's SELF SERVICE panel (Requests refused until Applications > Self
Service is on) and Convert assignments; the top bar's search; a group renamed in the spoke
and followed by its pushed copy in the hub; the IdP's profile mappings and the Expression
Language Reference; the routing rule sending Sarah from the hub's sign-in page to Org1;
and Tasks: a push dismissed, and one shown In progress while the hub is unreachable.
"""

import time

from steps import PASSWORD, sign_in, wait_until


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


def assert_names(b, names):
    """Every field or control the seeds name on this screen is on the page, in their
    wording (case aside), closed disclosures included: an admin following them finds it."""
    text = " ".join(b.execute("return document.body.textContent").split()).lower()
    missing = [n for n in names if n.lower() not in text]
    assert not missing, f"the seeds name {missing} on {b.current_url}"


def download(b, css):
    """What a click on the download link at `css` would save (the browser's own session)."""
    got = b.execute(
        "const x = new XMLHttpRequest(); x.open('GET', arguments[0], false); x.send(); return [x.status, x.responseText];",
        b.attribute(css, "href"),
    )
    assert got[0] == 200, got
    return got[1]


def test_org2org_seed_walkthrough(orgs, browser, dropbox, hub_relay):
    spoke, hub = orgs["spoke"], orgs["hub"]
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 5))

    # --- Org2 (hub): Dropbox Business from the catalog; an API token for the spoke --------
    h = browser("hub-admin")
    sign_in(h, hub, "admin@org2.example")
    h.click("#admin-link")
    h.find("nav[aria-label='Admin menu']")
    assert_names(h, ["Dashboard", "Directory", "People", "Groups", "Applications", "Browse App Catalog", "Security",
                     "Identity Providers", "Authenticators", "API", "Reports", "System Log", "Tasks"])
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
    dropbox_id = app_id_from_url(h.current_url)
    # General: a descriptive application name, Save
    h.fill("#label", "Dropbox Business")
    h.screenshot("dropbox-general")
    h.click("#save-general")
    assert "Saved." in h.text("[role=status]")
    # Sign On: the Sign-on URL and the signing certificate go to Dropbox's admin console
    h.click("#tab-signon")
    h.find("#view-setup-instructions")
    assert_names(h, ["Sign-on URL", "Signing Certificate", "View Setup Instructions", "More details", "Issuer URI",
                     "Default Relay State", "Disable Force Authentication", "Never prompt user to re-authenticate",
                     "Advanced Sign-on Settings", "Silent Provisioning", "Credentials Details", "Application username format",
                     "Update application username on", "Password reveal", "Allow users to securely see their password"])
    assert h.selected("#credentials-revealPassword"), "Password reveal is on by default, as the seeds show it"
    # Advanced Sign-On Settings: Silent Provisioning Enabled; Username Okta username, updated on Create and update
    h.check("#settings-idhub-silentProvisioning")
    h.choose("#credentials-userNameTemplate-template", "${source.login}")
    h.choose("#credentials-updateOn", "CREATE_AND_UPDATE")
    h.click("#save-signon")
    assert h.value("#credentials-userNameTemplate-template") == "${source.login}"
    assert h.selected("#settings-idhub-silentProvisioning")
    saved = hub.api("GET", f"/api/v1/apps/{dropbox_id}").json()
    assert saved["settings"]["idhub"]["silentProvisioning"] is True, saved["settings"]
    assert saved["credentials"]["revealPassword"] is True
    dropbox_sso, dropbox_issuer = h.text("#sso-url").strip(), h.text("#issuer-uri").strip()
    assert dropbox_sso.startswith(f"{hub.base}/app/dropbox_for_business/{dropbox_id}/sso/saml")
    dropbox_cert = download(h, "#download-cert")
    assert "BEGIN CERTIFICATE" in dropbox_cert
    h.screenshot("dropbox-sign-on")
    dropbox.configure(dropbox_sso, dropbox_issuer, dropbox_cert)

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
    assert_names(s, ["General Settings", "Sign-On Options", "Application label", "Base Url", "Application Visibility",
                     "Do not display application icon to users", "Browser plugin auto-submit",
                     "Automatically log in when user lands on login page"])
    s.screenshot("wizard-general-settings")
    s.click("#wizard-next")
    s.find("#mode-saml")
    hub_acs = f"{hub.base}/sso/saml2/0oaSPOKEIDP"
    audience = "https://www.okta.com/saml2/service-provider/spoke-org1"
    s.fill("#settings-app-acsUrl", hub_acs)
    s.fill("#settings-app-audRestriction", audience)
    assert_names(s, ["SAML 2.0", "Default Relay State", "Advanced Sign-on Settings", "Hub ACS URL", "Audience URI",
                     "Application username format", "Update application username on"])
    s.screenshot("wizard-sign-on-options-advanced")
    s.click("#wizard-done")
    s.find("#tab-general[aria-current='page']")
    app_id = app_id_from_url(s.current_url)
    s.screenshot("org2org-general")

    # Sign On: setup instructions, metadata and certificate, Hub ACS URL and Audience URI
    s.click("#tab-signon")
    assert_names(s, ["View Setup Instructions", "More details", "Sign-on URL", "Issuer URI", "Signing Certificate",
                     "Default Relay State", "Disable Force Authentication", "Never prompt user to re-authenticate",
                     "Advanced Sign-on Settings", "Hub ACS URL", "Audience URI", "Credentials Details", "Password reveal"])
    assert not s.selected("#settings-signOn-honorForceAuthn"), "Disable Force Authentication: unchecked, as the seeds show it"
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
    assert_names(h, ["Add identity provider", "SAML 2.0 IdP"])
    assert all(h.attribute(f"#{t}", "disabled") for t in h.execute(
        "return [...document.querySelectorAll('#idp-types input[type=radio]')].map(e => e.id).filter(i => i != 'idp-type-saml2')"))
    h.screenshot("add-identity-provider-type")
    h.click("#idp-type-next")
    h.fill("#idp-name", "Org1")
    h.click("#idp-usage-sso", nav=False)
    assert_names(h, ["Name", "IdP Usage", "SSO only", "Factor only", "Use Persistent Name ID", "IdP username", "Filter", "Match against",
                     "Account Link Policy", "Auto-Link Restrictions", "If no match is found", "Create new user (JIT)",
                     "Redirect to Okta sign-in page", "Profile Source", "Update attributes for existing user", "Reactivation Settings",
                     "Group Assignments", "IdP Issuer URI", "IdP Single Sign-On URL", "IdP Signature Certificate", "Request Binding",
                     "Request Signature", "Request Signature Algorithm", "Response Signature Verification", "Response Signature Algorithm",
                     "Destination", "Okta Assertion Consumer Service URL", "Trust-specific", "Organization (shared)", "Max Clock Skew",
                     "Finish"])
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
    assert_names(h, ["IdP ID", "SAML metadata", "Assertion Consumer Service URL", "Audience URI"])
    h.screenshot("idp-sp-metadata")
    idp = hub.api("GET", "/api/v1/idps").json()[0]
    assert idp["policy"]["provisioning"]["action"] == "AUTO" and idp["policy"]["accountLink"]["action"] == "AUTO"
    assert idp["protocol"]["credentials"]["trust"]["issuer"] == spoke_issuer
    assert_names(h, ["Edit profile and mappings"])
    h.click("#edit-mappings")
    assert h.value("#map-firstName") == "idpuser.firstName"
    h.screenshot("idp-profile-mappings")
    # an expression outside the language is refused next to its field; a good one is kept
    h.fill("#map-lastName", "String.shout(idpuser.lastName)")
    h.click("#save-mappings")
    assert h.exists("#map-lastName-error"), h.text("#mappings")
    assert h.value("#map-lastName") == "String.shout(idpuser.lastName)", "what was typed is kept"
    h.screenshot("idp-profile-mappings-refused")
    h.fill("#map-lastName", 'idpuser.lastName ?: "Unknown"')
    h.click("#save-mappings")
    assert "Profile and mappings saved." in h.text("[role=status]")
    assert h.value("#map-lastName") == 'idpuser.lastName ?: "Unknown"'
    # the Expression Language Reference the IdP username and the mappings link to
    assert h.attribute("#el-reference", "href").endswith("/admin/help/expression-language")
    h.get(f"{hub.base}/admin/help/expression-language")
    assert h.text("main h1") == "Expression Language Reference"
    assert_names(h, ["Variables", "idpuser.subjectNameId", "String.substringBefore"])
    h.screenshot("expression-language-reference")

    # --- Org1 (spoke): the hub's ACS URL and Audience URI in Advanced Sign-on Settings ---
    s.get(f"{spoke.base}/admin/app/{app_id}/signon")
    s.fill("#settings-app-acsUrl", hub_acs)
    s.fill("#settings-app-audRestriction", audience)
    s.screenshot("org2org-advanced-sign-on-settings")
    s.click("#save-signon")
    s.get(f"{spoke.base}/admin/app/{app_id}/signon")
    assert s.value("#settings-app-acsUrl") == hub_acs
    assert s.value("#settings-app-audRestriction") == audience

    # --- Org2 (hub): Identity Providers > Routing rules: people of org1.example sign in at Org1
    h.get(f"{hub.base}/admin/access/identity-providers")
    h.click("a[href='/admin/access/identity-providers/routing-rules']")
    h.fill("#rule-name", "Org1 people")
    h.click("#rule-pattern", nav=False)
    h.choose("#rule-match-type", "SUFFIX")
    h.fill("#rule-match-value", "org1.example")
    h.choose("#rule-provider", idp["id"])
    h.screenshot("routing-rule-add")
    h.click("#rule-save")
    assert "Org1 people" in h.text("#routing-rules") and "Org1" in h.text("#routing-rules")
    h.screenshot("routing-rules")

    # Provisioning > Integration: a wrong token is refused with what the hub answered
    s.get(f"{spoke.base}/admin/app/{app_id}/provisioning")
    assert_names(s, ["Provisioning is not configured", "Configure API Integration"])
    assert not s.exists("#baseUrl"), "the form opens with Configure API Integration"
    s.screenshot("provisioning-not-configured")
    s.click("#configure-api-integration")
    s.check("#enabled")
    s.fill("#baseUrl", hub.base)
    s.fill("#token", "not-the-token")
    assert_names(s, ["General", "Sign On", "Provisioning", "Import", "Assignments", "Push Groups", "Integration", "To App",
                     "Enable API integration", "Security token", "Prefer Username Over Email", "Import Groups", "Test API Credentials",
                     "Provisioning to App", "Create Users", "Update User Attributes", "Deactivate Users", "Sync Password"])
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
    assert all(s.attribute(f"#feature-{f}", "disabled") for f in ("create", "update", "deactivate", "password"))
    s.click("#edit-to-app")
    assert s.exists("#cancel-to-app") and not s.attribute("#feature-create", "disabled")
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
    assert_names(s, ["Assign to People", "Assign to Groups", "Contractors", "All Contractors", "Initial status", "Save and Go Back"])
    s.choose(f"#initialStatus-{gid}", "active_with_pass")
    s.screenshot("assign-to-groups-initial-status")
    s.click(f"#save-assign-group-{gid}")
    assert "Group assigned." in s.text("[role=status]")
    assert s.text("#assigned-groups .initial-status") == "active_with_pass"
    s.click("#assign-menu", nav=False)
    s.click("#assign-groups", nav=False)
    assert s.text(f"#assigned-{gid}") == "Assigned"
    assert_names(s, ["Assign", "Convert assignments", "People", "Groups", "SELF SERVICE",
                     "You need to enable self service for org managed apps before you can use self service for this app.",
                     "Go to self service settings", "Requests", "Edit"])
    assert s.text("#self-service-requests") == "Disabled"
    s.screenshot("assignments")

    # SELF SERVICE > Edit: Requests are refused while the org setting is off, next to the field
    s.click("#edit-self-service", nav=False)
    s.check("#self-service-requests-enabled")
    s.click("#save-self-service")
    assert "self service" in s.text("#self-service-requests-error").lower(), s.text("#self-service")
    assert s.attribute("#self-service-requests-enabled", "aria-invalid") == "true"
    s.screenshot("self-service-requests-refused")
    assert not spoke.api("GET", f"/api/v1/apps/{app_id}").json().get("accessibility", {}).get("selfService")
    # Applications > Self Service: enable it for org managed apps; then Requests can be turned on
    s.click("#go-to-self-service-settings")
    assert s.text("#self-service-status") == "Disabled"
    assert_names(s, ["Self Service", "Org managed apps", "Enable self service for org managed apps"])
    s.check("#orgManagedApps")
    s.screenshot("applications-self-service")
    s.click("#save-self-service-settings")
    assert s.text("#self-service-status") == "Enabled"
    s.get(f"{spoke.base}/admin/app/{app_id}/assignments")
    assert not s.exists("#self-service-org-off")
    s.click("#edit-self-service", nav=False)
    s.check("#self-service-requests-enabled")
    s.click("#save-self-service")
    assert not s.exists("#self-service-requests-error")
    assert s.text("#self-service-requests") == "Enabled"
    s.screenshot("self-service-requests-enabled")
    assert spoke.api("GET", f"/api/v1/apps/{app_id}").json()["accessibility"]["selfService"] is True

    # the top bar's "Search for people, apps and groups" finds Sarah, the app and the group
    for q, section, found in (("Sarah", "people", "Sarah Lee"), ("Okta Org2Org", "apps", "Okta Org2Org"), ("Contractors", "groups", "Contractors")):
        s.fill("#global-search", q)
        s.click("#global-search-submit")
        assert s.value("#search-q") == q
        assert found in s.text(f"#results-{section}"), s.text("main")
        s.screenshot(f"search-{section}")
    s.click("#results-groups a[href^='/admin/group/']")
    assert "sarah@org1.example" in s.text("#members"), "the result leads to the group"

    # the same page at a phone's width
    s.resize(390, 844)
    s.get(f"{spoke.base}/admin/app/{app_id}/provisioning?edit=to-app")
    s.find("#save-to-app")
    s.screenshot("provisioning-390px")
    s.resize(1280, 900)

    # --- Sarah: the tile, and her account pushed into the hub --------------------------
    u = browser("sarah", args=dropbox.browser_args())
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

    # --- Import: a hub user imported into the spoke, reviewed and confirmed --------------
    h.get(f"{hub.base}/admin/users")
    h.click("#add-person")
    for f, v in (("firstName", "Pat"), ("lastName", "Partner"), ("login", "pat@org2.example"), ("email", "pat@org2.example"), ("password", PASSWORD)):
        h.fill(f"#{f}", v)
    h.screenshot("add-person")
    h.click("#save-person")
    assert "Person added." in h.text("[role=status]")
    s.get(f"{spoke.base}/admin/app/{app_id}/import")
    s.click("#import-now")
    assert "Import started" in s.text("[role=status]")

    def pat_result():
        s.get(f"{spoke.base}/admin/app/{app_id}/import")
        return s.execute(
            "const r = [...document.querySelectorAll('#import-results tr[id^=result-]')].find(r => r.textContent.includes('pat@org2.example'));"
            "return r ? r.id.replace('result-', '') : null"
        )

    rid = wait_until("Pat in the import results", pat_result)
    assert "Create new user" in s.text(f"#result-{rid}")
    s.check(f"#select-{rid}")
    s.screenshot("import-results")
    s.click("#confirm-assignments", nav=False)
    s.screenshot("import-confirm")
    s.click("#confirm-assignments-yes")
    assert "1 assignment(s) confirmed" in s.text("[role=status]"), s.text("[role=status]")
    s.get(f"{spoke.base}/admin/app/{app_id}/assignments")
    assert "pat@org2.example" in s.text("#assigned-people")
    s.screenshot("assignments-after-import")

    # Assignments > Convert assignments: Sarah, assigned through Contractors, individually
    sarah_id = spoke.api("GET", "/api/v1/users/sarah@org1.example").json()["id"]
    assert s.text(f"#assignment-{sarah_id} .type") == "Group: Contractors"
    s.click("#convert-assignments", nav=False)
    assert "group-based assignment" in s.text("main")
    s.screenshot("convert-assignments-confirm")
    s.click("#confirm-convert-assignments")
    assert "converted to individual assignments" in s.text("[role=status]")
    assert s.text(f"#assignment-{sarah_id} .type") == "Individual", s.text("#assigned-people")
    assert "Contractors" in s.text("#assigned-groups"), "the group assignment stays"
    assert s.exists(f"#remove-person-{sarah_id}")
    s.screenshot("assignments-converted")
    r = spoke.api("GET", f"/api/v1/apps/{app_id}/users/{sarah_id}").json()
    assert r.get("scope") == "USER", r

    # --- Push Groups: Contractors to the hub, with Sarah --------------------------------
    s.get(f"{spoke.base}/admin/app/{app_id}/push-groups")
    s.click("#push-by-name", nav=False)
    s.choose("#push-group", gid)
    s.screenshot("push-groups-by-name")
    s.click("#save-push-group")

    def pushed():
        s.get(f"{spoke.base}/admin/app/{app_id}/push-groups")
        return "ACTIVE" in s.text("#pushed-groups")

    wait_until("Contractors pushed", pushed)
    s.screenshot("push-groups")
    h.get(f"{hub.base}/admin/groups")
    assert "Contractors" in h.text("#groups")
    h.screenshot("hub-groups-pushed")
    hub_gid = h.execute(
        "return [...document.querySelectorAll('#groups a[href^=\"/admin/group/\"]')].find(a => a.textContent.trim() == 'Contractors')"
        ".getAttribute('href').split('/').pop()"
    )

    def sarah_member():
        h.get(f"{hub.base}/admin/group/{hub_gid}")
        return "sarah@org1.example" in h.text("#members")

    wait_until("Sarah in the hub's Contractors", sarah_member)
    h.screenshot("hub-group-contractors")

    # --- Org2 (hub): Dropbox Business > Assignments > Assign to Groups: Contractors -------
    h.get(f"{hub.base}/admin/app/{dropbox_id}/assignments")
    if h.exists("#assign-menu"):  # the Assign menu, where the console has one
        h.click("#assign-menu", nav=False)
    h.click("#assign-groups", nav=False)
    h.click(f"#assign-group-{hub_gid}", nav=False)
    h.screenshot("dropbox-assign-to-groups")
    h.click(f"#save-assign-group-{hub_gid}")
    assert "Group assigned." in h.text("[role=status]")
    assert "Contractors" in h.text("#assigned-groups")
    h.screenshot("dropbox-assignments")

    # --- Org1 (spoke): Directory > Groups > Contractors > Edit; the pushed group follows ---
    s.get(f"{spoke.base}/admin/group/{gid}")
    s.click("#edit-group", nav=False)
    assert s.value("#group-name") == "Contractors"
    s.fill("#group-name", "")
    s.click("#save-group", nav=False)  # the browser's own check: the name is required
    assert s.exists("#group-name:invalid")
    s.fill("#group-name", "Contractors EMEA")
    s.fill("#group-description", "Contractors in Europe")
    s.screenshot("group-edit")
    s.click("#save-group")
    assert s.text("main h1") == "Contractors EMEA"
    s.screenshot("group-renamed")
    wait_until("the hub's pushed group renamed",
               lambda: hub.api("GET", f"/api/v1/groups/{hub_gid}").json()["profile"]["name"] == "Contractors EMEA")
    h.get(f"{hub.base}/admin/group/{hub_gid}")
    assert h.text("main h1") == "Contractors EMEA"
    h.screenshot("hub-group-renamed")

    # --- Sarah: the Org2Org tile signs her in to the hub ---------------------------------
    u.get(f"{spoke.base}/app/UserHome")
    u.click(f"#tile-{app_id}")
    wait_for_url(u, f"{hub.base}/app/UserHome")
    assert u.text("#current-user") == "sarah@org1.example"
    assert u.text(f"#tile-{dropbox_id}") == "Dropbox Business", "the Dropbox tile is on her hub dashboard"
    u.screenshot("hub-dashboard-via-org2org")

    # --- Sarah: the Dropbox Business tile signs her in to Dropbox -----------------------
    u.click(f"#tile-{dropbox_id}")
    wait_for_url(u, "https://www.dropbox.com/saml_login")
    assert u.text("#sp-title") == "Dropbox Business — signed in as sarah@org1.example", u.text("body")
    u.screenshot("dropbox-signed-in")
    assert dropbox.logins == ["sarah@org1.example"]

    # --- key rotation: Dropbox refuses the new signature until given the new certificate --
    h.get(f"{hub.base}/admin/app/{dropbox_id}/signon")
    h.click("#rotate-key", nav=False)
    h.screenshot("dropbox-rotate-key-confirm")
    h.click("#confirm-rotate-key")
    u.get(f"{hub.base}/app/UserHome")
    u.click(f"#tile-{dropbox_id}")
    wait_for_url(u, "https://www.dropbox.com/saml_login")
    assert u.text("#sp-title") == "Dropbox Business — sign-in refused"
    assert "Signature validation failed" in u.text("#sp-error"), u.text("#sp-error")
    u.screenshot("dropbox-refuses-old-certificate")
    h.get(f"{hub.base}/admin/app/{dropbox_id}/signon")
    new_cert = download(h, "#download-cert")
    assert new_cert != dropbox_cert
    h.screenshot("dropbox-sign-on-new-certificate")
    dropbox.configure(dropbox_sso, dropbox_issuer, new_cert)
    u.get(f"{hub.base}/app/UserHome")
    u.click(f"#tile-{dropbox_id}")
    wait_for_url(u, "https://www.dropbox.com/saml_login")
    assert u.text("#sp-title") == "Dropbox Business — signed in as sarah@org1.example", u.text("body")
    h.get(f"{hub.base}/admin/idp/{idp['id']}")
    assert "sarah@org1.example" in h.text("#idp-users")
    h.screenshot("idp-linked-users")

    # --- the routing rule at work: on the hub's own sign-in page, Sarah's username goes to Org1
    u.get(f"{hub.base}/login/signout")
    u.find("#signin-submit")
    assert u.text("a.idp") == "Sign in with Org1"
    u.fill("#username", "sarah@org1.example")
    u.screenshot("hub-sign-in-page")
    u.click("#signin-submit")
    wait_for_url(u, f"{hub.base}/app/UserHome")
    assert u.text("#current-user") == "sarah@org1.example", "signed in by Org1, no hub password asked"
    u.screenshot("hub-signed-in-by-routing-rule")

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

    # --- Reports > System Log: a time range, a filter, an event's detail -----------------
    h.get(f"{hub.base}/admin/reports/system-log")
    h.fill("#since", started)
    h.fill("#filter", 'eventType eq "user.authentication.sso"')
    h.click("#apply-filters")
    assert "Dropbox Business" in h.text("#events")
    h.click("#events tbody tr:first-child summary", nav=False)
    assert "user.authentication.sso" in h.text("#events tbody tr:first-child pre")
    h.screenshot("system-log-event-detail")

    # --- Tasks: the hub revokes the spoke's token; a push fails, is retried once fixed ---
    h.get(f"{hub.base}/admin/access/api/tokens")
    tid = h.execute(
        "return [...document.querySelectorAll('#tokens tbody tr')].find(r => r.textContent.includes('Org2Org provisioning'))"
        ".querySelector('summary').id.replace('revoke-', '')"
    )
    h.click(f"#revoke-{tid}", nav=False)
    h.screenshot("api-token-revoke-confirm")
    h.click(f"#confirm-revoke-{tid}")
    s.get(f"{spoke.base}/admin/users?q=sarah")
    s.click("#people a[href^='/admin/user/']")
    assert s.text("#user-status") == "ACTIVE"
    s.screenshot("person-sarah")
    s.fill("#lastName", "Lee-Park")
    s.click("#save-profile")
    assert "Profile saved." in s.text("[role=status]")
    # Pat (imported from the hub) changes too: that push is to be dismissed
    pat_id = spoke.api("GET", "/api/v1/users/pat@org2.example").json()["id"]
    s.get(f"{spoke.base}/admin/user/{pat_id}")
    s.fill("#lastName", "Partner-Dismissed")
    s.click("#save-profile")
    assert "Profile saved." in s.text("[role=status]")

    def failed_task(user_id):
        def find():
            s.get(f"{spoke.base}/admin/tasks")
            return s.exists("#tasks") and s.execute(
                "const r = [...document.querySelectorAll('#tasks tbody tr')].find(r => r.querySelector('.reason').textContent.includes('401')"
                " && r.querySelector(`a[href='/admin/user/${arguments[0]}']`));"
                "return r ? r.querySelector('button[id^=retry-]').id.replace('retry-', '') : null", user_id)
        return find

    task = wait_until("Sarah's failed push in Tasks", failed_task(sarah_id))
    pat_task = wait_until("Pat's failed push in Tasks", failed_task(pat_id))
    s.screenshot("tasks-failed-push")
    s.get(f"{spoke.base}/admin/dashboard")
    assert int(s.text("#count-tasks")) >= 2
    s.screenshot("dashboard-open-task")

    # Dismiss, after a confirmation: Pat's change is not pushed, the hub keeps his name
    s.get(f"{spoke.base}/admin/tasks")
    s.click(f"#dismiss-open-{pat_task}", nav=False)
    assert "not retried" in s.text(f"#dismiss-open-{pat_task} + form")
    s.screenshot("tasks-dismiss-confirm")
    s.click(f"#dismiss-{pat_task}")
    assert "Task dismissed." in s.text("[role=status]")
    assert not s.exists(f"#dismiss-open-{pat_task}") and s.exists(f"#retry-{task}")
    assert hub.api("GET", "/api/v1/users/pat@org2.example").json()["profile"]["lastName"] == "Partner"

    # a new token, given to the spoke through a relay (hub_relay.py) that can take the hub away
    h.get(f"{hub.base}/admin/access/api/tokens")
    h.click("#create-token", nav=False)
    h.fill("#token-name", "Org2Org provisioning (rotated)")
    h.click("#save-token")
    token = h.text("#new-token").strip()

    def integrate(base_url):
        s.get(f"{spoke.base}/admin/app/{app_id}/provisioning")
        s.fill("#baseUrl", base_url)
        s.fill("#token", token)
        s.click("#test-api-credentials")
        assert "verified successfully" in s.text("#test-result")
        s.click("#save-integration")
        assert "API integration enabled." in s.text("[role=status]")

    integrate(hub_relay.base)
    # the hub unreachable: the retried push waits and is retried, shown In progress
    hub_relay.down()
    s.get(f"{spoke.base}/admin/tasks")
    assert s.exists("#nothing-running")
    s.click(f"#retry-{task}")
    assert "Task queued again." in s.text("[role=status]")

    def in_progress():
        s.get(f"{spoke.base}/admin/tasks")
        return s.exists("#in-progress") and s.text("#in-progress tbody")

    row = wait_until("the push In progress", in_progress, timeout=10)
    assert "Okta Org2Org" in row and "Provisioning to App" in row, row
    assert not s.exists(f"#retry-{task}"), "a task under way is not offered for retry"
    s.screenshot("tasks-in-progress")
    assert hub.api("GET", "/api/v1/users/sarah@org1.example").json()["profile"]["lastName"] == "Lee"
    # the hub back: the push goes through on its next attempt (backoff 1 s, 2 s, 4 s…)
    hub_relay.up()
    wait_until("the retried push in the hub",
               lambda: hub.api("GET", "/api/v1/users/sarah@org1.example").json()["profile"]["lastName"] == "Lee-Park")
    wait_until("nothing in progress", lambda: s.get(f"{spoke.base}/admin/tasks") or s.exists("#nothing-running"), timeout=10)
    assert not s.exists(f"#retry-{task}")
    s.screenshot("tasks-after-retry")
    integrate(hub.base)
