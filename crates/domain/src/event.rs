//! System Log events: what happened, who did it, to what, and with what outcome.
//! Event type names are Okta's (`user.lifecycle.create`, `group.user_membership.add`, …).

use serde::{Deserialize, Serialize};

/// An actor or a target of an event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Party {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(rename = "alternateId")]
    pub alternate_id: String,
    #[serde(rename = "displayName")]
    pub display_name: String,
}

impl Party {
    /// A party of any kind.
    pub fn new(id: impl Into<String>, kind: &str, alternate_id: impl Into<String>, display_name: impl Into<String>) -> Self {
        Party { id: id.into(), kind: kind.to_string(), alternate_id: alternate_id.into(), display_name: display_name.into() }
    }
    /// The system itself (CLI, background work).
    pub fn system() -> Self {
        Party::new("system", "SystemPrincipal", "system@idhub", "idhub")
    }
}

/// The request context an event happened in.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClientInfo {
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
    pub request_uri: Option<String>,
}

/// One System Log event, before it is stored.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub event_type: String,
    pub severity: &'static str,
    pub display_message: String,
    pub actor: Party,
    pub targets: Vec<Party>,
    /// `SUCCESS`, `FAILURE`, …
    pub outcome: &'static str,
    pub reason: Option<String>,
    pub client: ClientInfo,
}

impl NewEvent {
    /// A successful INFO event.
    pub fn success(event_type: &str, display_message: impl Into<String>, actor: Party, targets: Vec<Party>, client: ClientInfo) -> Self {
        NewEvent {
            event_type: event_type.to_string(),
            severity: "INFO",
            display_message: display_message.into(),
            actor,
            targets,
            outcome: "SUCCESS",
            reason: None,
            client,
        }
    }

    /// A failed WARN event with its reason.
    pub fn failure(
        event_type: &str,
        display_message: impl Into<String>,
        actor: Party,
        targets: Vec<Party>,
        client: ClientInfo,
        reason: impl Into<String>,
    ) -> Self {
        NewEvent {
            event_type: event_type.to_string(),
            severity: "WARN",
            display_message: display_message.into(),
            actor,
            targets,
            outcome: "FAILURE",
            reason: Some(reason.into()),
            client,
        }
    }
}

impl NewEvent {
    /// The event as Okta's System Log shows it (`GET /api/v1/logs`).
    pub fn to_okta_json(&self, uuid: &str, published: crate::time::Millis) -> serde_json::Value {
        let party = |p: &Party| {
            serde_json::json!({
                "id": p.id, "type": p.kind, "alternateId": p.alternate_id,
                "displayName": p.display_name, "detailEntry": null
            })
        };
        serde_json::json!({
            "uuid": uuid,
            "published": crate::time::format_millis(published),
            "eventType": self.event_type,
            "version": "0",
            "severity": self.severity,
            "legacyEventType": null,
            "displayMessage": self.display_message,
            "actor": party(&self.actor),
            "client": {
                "userAgent": { "rawUserAgent": self.client.user_agent, "os": null, "browser": null },
                "zone": "null",
                "device": null,
                "id": null,
                "ipAddress": self.client.ip_address,
                "geographicalContext": null
            },
            "device": null,
            "authenticationContext": {
                "authenticationProvider": null, "credentialProvider": null, "credentialType": null,
                "issuer": null, "interface": null, "authenticationStep": 0, "externalSessionId": null
            },
            "securityContext": { "asNumber": null, "asOrg": null, "isp": null, "domain": null, "isProxy": null },
            "outcome": { "result": self.outcome, "reason": self.reason },
            "target": self.targets.iter().map(party).collect::<Vec<_>>(),
            "transaction": { "type": "WEB", "id": self.client.request_id, "detail": {} },
            "debugContext": { "debugData": { "requestId": self.client.request_id, "requestUri": self.client.request_uri } },
            "request": { "ipChain": [] }
        })
    }
}
