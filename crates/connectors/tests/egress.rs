//! The egress rule at connect time, against listeners on loopback: a refused target is
//! never connected to, whichever way its address is spelled or resolved; redirects are
//! not followed; a next link to another origin is not called with the token.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use idhub_connectors::egress::{Egress, EgressError, EgressPolicy};
use idhub_connectors::okta::{ClientError, OktaClient};
use idhub_testkit::Bait;

fn egress(allow: &[&str]) -> Egress {
    Egress::new(EgressPolicy::new(allow).unwrap())
}

#[tokio::test]
async fn a_refused_address_is_never_connected_to() {
    let bait = Bait::on("127.0.0.1");
    let p = bait.port();
    // narrowed: loopback is allowed, but not the bait's address
    let narrow = egress(&["127.0.0.2/32"]);
    for url in [
        format!("http://127.0.0.1:{p}"),
        format!("http://2130706433:{p}"),
        format!("http://0x7f000001:{p}"),
        format!("http://[::ffff:127.0.0.1]:{p}"),
        // resolved at connect time by the client's resolver
        format!("http://localhost:{p}"),
    ] {
        let client = OktaClient::new(&narrow, &url, "00token").unwrap();
        let e = client.test_credentials().await.unwrap_err();
        assert!(matches!(e, ClientError::Egress(EgressError::NotAllowed(_))), "{url}: {e:?}");
        assert!(!e.is_transient(), "a refusal is not retried");
    }
    // and with no allow-list at all
    let e = OktaClient::new(&Egress::default(), &format!("http://localhost:{p}"), "t").unwrap().test_credentials().await.unwrap_err();
    assert!(matches!(e, ClientError::Egress(EgressError::NotAllowed(_))), "{e:?}");
    bait.assert_untouched();
}

#[tokio::test]
async fn a_base_url_that_is_not_an_origin_is_refused() {
    let e = egress(&["127.0.0.0/8"]);
    for url in ["http://127.0.0.1:1/api/v1", "http://127.0.0.1:1/?q", "http://u:p@127.0.0.1:1"] {
        assert!(matches!(OktaClient::new(&e, url, "t"), Err(ClientError::Egress(EgressError::NotAnOrigin(_)))), "{url}");
    }
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let bait = Bait::on("127.0.0.1");
    let target = format!("http://127.0.0.1:{}/api/v1/users", bait.port());
    let app = axum::Router::new().fallback(move || {
        let target = target.clone();
        async move { axum::response::Redirect::temporary(&target) }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let e = OktaClient::new(&egress(&["127.0.0.0/8"]), &base, "00token").unwrap().test_credentials().await.unwrap_err();
    assert!(matches!(e, ClientError::Rejected { status: 307, .. }), "{e:?}");
    server.abort();
    bait.assert_untouched();
}

#[tokio::test]
async fn a_next_link_to_another_origin_is_not_followed() {
    let bait = Bait::on("127.0.0.2");
    let client = OktaClient::new(&egress(&["127.0.0.0/8"]), "http://127.0.0.1:9", "00token").unwrap();
    // starts with the base URL, yet its host is 127.0.0.2
    let next = format!("http://127.0.0.1:9@127.0.0.2:{}/api/v1/users?after=x", bait.port());
    let e = client.page(&next).await.unwrap_err();
    assert!(matches!(e, ClientError::Rejected { ref summary, .. } if summary.contains("another origin")), "{e:?}");
    bait.assert_untouched();
}
