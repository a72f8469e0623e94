//! The SP side of SP-initiated sign-on (the hub asking a spoke IdP): an AuthnRequest
//! written with the XML writer, sent with the HTTP-POST binding (optionally signed inside
//! the XML, RSA-SHA256) or the HTTP-Redirect binding (optionally with the RSA-SHA256
//! query signature). The caller stores [`OutgoingAuthnRequest::id`] as the outstanding
//! request for [`crate::TrustPolicy::request_id`].

use crate::dom::{NS_ASSERTION, NS_PROTOCOL};
use crate::encoding::{deflate, encode_base64, percent_encode};
use crate::error::{Result, SamlError};
use crate::keys::SigningKey;
use crate::xml::{instant_of, new_id, sign_after_first_issuer, Xml};
use crate::{ALG_RSA_SHA256, BINDING_POST};
use chrono::{DateTime, Utc};

/// What an AuthnRequest says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthnRequestSpec {
    /// This SP's entity id (`Issuer`; the IdP's audience for us).
    pub issuer: String,
    /// The IdP's SSO URL (`Destination`, and where the request is sent).
    pub destination: String,
    /// This SP's ACS URL (`AssertionConsumerServiceURL`; HTTP-POST is asked for).
    pub acs_url: String,
    /// `NameIDPolicy/@Format`, if any (with `AllowCreate="true"`).
    pub name_id_format: Option<String>,
    /// `ForceAuthn`.
    pub force_authn: bool,
    /// `IssueInstant`.
    pub now: DateTime<Utc>,
}

/// A built AuthnRequest, ready for either binding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingAuthnRequest {
    id: String,
    spec: AuthnRequestSpec,
    xml: String,
}

fn write(spec: &AuthnRequestSpec, id: &str) -> Result<String> {
    let now = instant_of(&spec.now);
    let mut x = Xml::new();
    let mut attrs: Vec<(&str, &str)> = vec![
        ("xmlns:samlp", NS_PROTOCOL),
        ("xmlns:saml", NS_ASSERTION),
        ("ID", id),
        ("Version", "2.0"),
        ("IssueInstant", now.as_str()),
        ("Destination", spec.destination.as_str()),
        ("AssertionConsumerServiceURL", spec.acs_url.as_str()),
        ("ProtocolBinding", BINDING_POST),
    ];
    if spec.force_authn {
        attrs.push(("ForceAuthn", "true"));
    }
    x.open("samlp:AuthnRequest", &attrs)?;
    x.leaf("saml:Issuer", &[], &spec.issuer)?;
    if let Some(f) = &spec.name_id_format {
        x.empty("samlp:NameIDPolicy", &[("Format", f.as_str()), ("AllowCreate", "true")])?;
    }
    x.close("samlp:AuthnRequest")?;
    x.finish()
}

/// Build an AuthnRequest with a new random ID.
pub fn build_authn_request(spec: &AuthnRequestSpec) -> Result<OutgoingAuthnRequest> {
    for (what, url) in [("Destination", &spec.destination), ("AssertionConsumerServiceURL", &spec.acs_url)] {
        if !crate::metadata::is_http_url(url) {
            return Err(SamlError::Xml(format!("{what} must be an http or https URL")));
        }
    }
    let id = new_id();
    let xml = write(spec, &id)?;
    Ok(OutgoingAuthnRequest { id, spec: spec.clone(), xml })
}

impl OutgoingAuthnRequest {
    /// The request's ID: keep it as the outstanding request for this browser.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The unsigned document.
    pub fn xml(&self) -> &str {
        &self.xml
    }

    /// The `SAMLRequest` form value for the HTTP-POST binding; with a key, the XML carries
    /// an enveloped RSA-SHA256 signature right after Issuer.
    pub fn post_form_value(&self, key: Option<&SigningKey>) -> Result<String> {
        let xml = match key {
            Some(k) => sign_after_first_issuer(&self.xml, "</saml:Issuer>", &self.id, k)?,
            None => self.xml.clone(),
        };
        Ok(encode_base64(xml.as_bytes()))
    }

    /// The URL to redirect the browser to (HTTP-Redirect binding): the IdP's SSO URL with
    /// `SAMLRequest`, `RelayState` (if any) and, with a key, `SigAlg` and `Signature`
    /// (RSA-SHA256 over `SAMLRequest=…&RelayState=…&SigAlg=…` as sent).
    pub fn redirect_url(&self, relay_state: Option<&str>, key: Option<&SigningKey>) -> Result<String> {
        let mut query = format!("SAMLRequest={}", percent_encode(&encode_base64(&deflate(self.xml.as_bytes())?)));
        if let Some(r) = relay_state {
            query.push_str("&RelayState=");
            query.push_str(&percent_encode(r));
        }
        if let Some(k) = key {
            query.push_str("&SigAlg=");
            query.push_str(&percent_encode(ALG_RSA_SHA256));
            let sig = k.sign_bytes(openssl::hash::MessageDigest::sha256(), query.as_bytes())?;
            query.push_str("&Signature=");
            query.push_str(&percent_encode(&encode_base64(&sig)));
        }
        let sep = if self.spec.destination.contains('?') { '&' } else { '?' };
        Ok(format!("{}{sep}{query}", self.spec.destination))
    }
}
