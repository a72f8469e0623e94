//! `idhub demo` (the README's first command) as a user runs it: the binary starts a spoke
//! and a hub on two loopback addresses and the Dropbox stand-in SP on a third; Sarah
//! signs in at the spoke, is pushed to the hub by provisioning, follows the bookmark's
//! RelayState deep link through the hub, and lands signed in at the SP.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod common;
use common::*;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

struct Demo(Child);

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port(ip: &str) -> u16 {
    std::net::TcpListener::bind((ip, 0)).unwrap().local_addr().unwrap().port()
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).timeout(Duration::from_secs(20)).build().unwrap()
}

fn form(html: &str) -> (String, Vec<(String, String)>) {
    let action = html.split("action=\"").nth(1).unwrap().split('"').next().unwrap().replace("&amp;", "&");
    let mut fields = vec![];
    for name in ["SAMLResponse", "RelayState"] {
        let marker = format!("name=\"{name}\" value=\"");
        if let Some(rest) = html.split(&marker).nth(1) {
            fields.push((
                name.to_string(),
                rest.split('"').next().unwrap().replace("&amp;", "&").replace("&#39;", "'").replace("&quot;", "\""),
            ));
        }
    }
    (action, fields)
}

fn session_cookie(r: &reqwest::Response) -> Option<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_string())
        .find(|c| c.starts_with("idhub_sid=") && c.len() > 10)
}

#[tokio::test]
async fn the_demo_walks_the_seeds_from_the_spoke_to_the_dropbox_stand_in() {
    let dir = tempfile::tempdir().unwrap();
    let (spoke, hub, sp) = (
        format!("127.0.0.2:{}", free_port("127.0.0.2")),
        format!("127.0.0.3:{}", free_port("127.0.0.3")),
        format!("127.0.0.4:{}", free_port("127.0.0.4")),
    );
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_idhub"));
    // The harness's own IDHUB_ variables (such as the test database URL) are not config.
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("IDHUB_")) {
        cmd.env_remove(k);
    }
    let mut child = cmd
        .args(["demo", "--data-dir"])
        .arg(dir.path())
        .args(["--spoke", &spoke, "--hub", &hub, "--sp", &sp])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let _demo = Demo(child);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut out = vec![];
    loop {
        let line = rx.recv_timeout(Duration::from_secs(120)).expect("the demo printed its summary in time");
        let done = line.starts_with("Press Ctrl-C");
        out.push(line);
        if done {
            break;
        }
    }
    let text = out.join("\n");
    let grab = |prefix: &str| {
        out.iter().find_map(|l| l.trim().strip_prefix(prefix).map(|r| r.trim().to_string())).unwrap_or_else(|| panic!("{prefix} in {text}"))
    };
    let hub_token = out
        .iter()
        .skip_while(|l| !l.contains("Hub org"))
        .find_map(|l| l.trim().strip_prefix("API token").map(|t| t.trim().to_string()))
        .unwrap();
    let bookmark = out.iter().skip_while(|l| !l.contains("bookmark")).nth(1).unwrap().trim().to_string();
    assert!(text.contains("sarah@spoke.example"), "{text}");
    let _ = grab("1. sign in at");
    let spoke_url = format!("http://{spoke}");
    let hub_url = format!("http://{hub}");
    let http = no_redirects();

    // Provisioning pushed Sarah (Contractors → Org2Org) into the hub.
    let mut pushed = false;
    for _ in 0..100 {
        let r = http
            .get(format!("{hub_url}/api/v1/users/sarah@spoke.example"))
            .header("Authorization", format!("SSWS {hub_token}"))
            .send()
            .await
            .unwrap();
        if r.status() == StatusCode::OK {
            pushed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(pushed, "the provisioning worker created Sarah in the hub");

    // Sarah signs in at the spoke (authn API + session cookie redirect).
    let (st, authn) = call(
        http.post(format!("{spoke_url}/api/v1/authn")).json(&json!({ "username": "sarah@spoke.example", "password": "Contract0r-Pass" })),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{authn}");
    let r = http
        .get(format!("{spoke_url}/login/sessionCookieRedirect"))
        .query(&[("token", authn["sessionToken"].as_str().unwrap()), ("redirectUrl", &format!("{spoke_url}/app/UserHome"))])
        .send()
        .await
        .unwrap();
    let spoke_cookie = session_cookie(&r).unwrap();
    let dash = http.get(format!("{spoke_url}/app/UserHome")).header("cookie", &spoke_cookie).send().await.unwrap().text().await.unwrap();
    assert!(dash.contains("Hub") && dash.contains("Dropbox Business (via hub)"), "{dash}");

    // The bookmark: spoke IdP → hub ACS (with the deep link) → hub app SSO → the SP.
    let page = http.get(&bookmark).header("cookie", &spoke_cookie).send().await.unwrap().text().await.unwrap();
    let (acs, fields) = form(&page);
    assert!(acs.starts_with(&format!("{hub_url}/sso/saml2/")), "{acs}");
    let r = http.post(&acs).form(&fields).send().await.unwrap();
    assert!(r.status().is_redirection(), "{}", r.status());
    let hub_cookie = session_cookie(&r).unwrap();
    let next = r.headers()["location"].to_str().unwrap().to_string();
    assert!(next.starts_with(&format!("{hub_url}/app/")), "{next}");
    let page = http.get(&next).header("cookie", &hub_cookie).send().await.unwrap().text().await.unwrap();
    let (sp_acs, fields) = form(&page);
    assert_eq!(sp_acs, format!("http://{sp}/saml/acs"));
    let landed = http.post(&sp_acs).form(&fields).send().await.unwrap();
    assert_eq!(landed.status(), StatusCode::OK);
    let landed = landed.text().await.unwrap();
    assert!(landed.contains("Signed in to Dropbox Business (demo) as sarah@spoke.example"), "{landed}");
    assert!(landed.contains("Sarah"), "attributes shown: {landed}");

    // The hub user is linked and in the Partner users group (the IdP's group assignment).
    let (_, groups) =
        call(http.get(format!("{hub_url}/api/v1/users/sarah@spoke.example/groups")).header("Authorization", format!("SSWS {hub_token}")))
            .await;
    assert!(groups.as_array().unwrap().iter().any(|g| g["profile"]["name"] == "Partner users"), "{groups}");
}
