//! SAML metadata: IdP metadata for an app (entity id, signing certificate, SSO endpoints
//! for both bindings, NameID formats), SP metadata for the hub's IdP connection (entity id,
//! ACS, whether requests are signed, signing certificate), and reading a partner IdP's
//! metadata into what a [`crate::TrustPolicy`] needs. Reading never weakens verification:
//! a key without `use` is a signing key, an encryption-only key is never trusted for
//! signatures, and metadata without a signing certificate is refused.

use crate::dom::{self, Element, NS_DSIG, NS_METADATA, NS_PROTOCOL};
use crate::encoding::refuse_doctype;
use crate::error::{clip, Result, SamlError};
use crate::keys::Certificate;
use crate::xml::Xml;
use crate::{BINDING_POST, BINDING_REDIRECT};

/// Largest metadata document read.
pub const MAX_METADATA_BYTES: usize = 1024 * 1024;

/// Is `url` an absolute `http` or `https` URL without spaces or control characters?
/// (ACS and SSO URLs are never `javascript:` or anything else.)
pub fn is_http_url(url: &str) -> bool {
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    let rest = if lower.starts_with("https://") {
        &url[8..]
    } else if lower.starts_with("http://") {
        &url[7..]
    } else {
        return false;
    };
    !rest.is_empty() && !rest.starts_with('/') && !url.chars().any(|c| c.is_whitespace() || c.is_control())
}

fn key_descriptor(x: &mut Xml, cert_b64: &str) -> Result<()> {
    x.open("md:KeyDescriptor", &[("use", "signing")])?;
    x.open("ds:KeyInfo", &[("xmlns:ds", NS_DSIG)])?;
    x.open("ds:X509Data", &[])?;
    x.leaf("ds:X509Certificate", &[], cert_b64)?;
    x.close("ds:X509Data")?;
    x.close("ds:KeyInfo")?;
    x.close("md:KeyDescriptor")
}

/// `EntityDescriptor` of an IdP: one signing certificate (base64 DER), the SSO URL for
/// both the HTTP-POST and HTTP-Redirect bindings, and the NameID formats offered.
pub fn idp_metadata(entity_id: &str, sso_url: &str, cert_b64: &str, name_id_formats: &[&str]) -> Result<String> {
    let mut x = Xml::new();
    x.open("md:EntityDescriptor", &[("xmlns:md", NS_METADATA), ("entityID", entity_id)])?;
    x.open("md:IDPSSODescriptor", &[("WantAuthnRequestsSigned", "false"), ("protocolSupportEnumeration", NS_PROTOCOL)])?;
    key_descriptor(&mut x, cert_b64)?;
    for f in name_id_formats {
        x.leaf("md:NameIDFormat", &[], f)?;
    }
    x.empty("md:SingleSignOnService", &[("Binding", BINDING_POST), ("Location", sso_url)])?;
    x.empty("md:SingleSignOnService", &[("Binding", BINDING_REDIRECT), ("Location", sso_url)])?;
    x.close("md:IDPSSODescriptor")?;
    x.close("md:EntityDescriptor")?;
    x.finish()
}

/// What SP metadata says.
#[derive(Debug, Clone)]
pub struct SpMetadataSpec<'a> {
    /// The SP's entity id (the audience IdPs put in their Assertions).
    pub entity_id: &'a str,
    /// The ACS URL (HTTP-POST).
    pub acs_url: &'a str,
    /// Whether this SP signs its AuthnRequests.
    pub authn_requests_signed: bool,
    /// Whether this SP wants the Assertions signed.
    pub want_assertions_signed: bool,
    /// The certificate of the key that signs AuthnRequests, if any.
    pub signing_certificate: Option<&'a Certificate>,
    /// The NameID format asked for, if any.
    pub name_id_format: Option<&'a str>,
}

/// `EntityDescriptor` of an SP.
pub fn sp_metadata(spec: &SpMetadataSpec<'_>) -> Result<String> {
    let bool_str = |b: bool| if b { "true" } else { "false" };
    let mut x = Xml::new();
    x.open("md:EntityDescriptor", &[("xmlns:md", NS_METADATA), ("entityID", spec.entity_id)])?;
    x.open(
        "md:SPSSODescriptor",
        &[
            ("AuthnRequestsSigned", bool_str(spec.authn_requests_signed)),
            ("WantAssertionsSigned", bool_str(spec.want_assertions_signed)),
            ("protocolSupportEnumeration", NS_PROTOCOL),
        ],
    )?;
    if let Some(c) = spec.signing_certificate {
        key_descriptor(&mut x, &c.der_base64())?;
    }
    if let Some(f) = spec.name_id_format {
        x.leaf("md:NameIDFormat", &[], f)?;
    }
    x.empty(
        "md:AssertionConsumerService",
        &[("Binding", BINDING_POST), ("Location", spec.acs_url), ("index", "0"), ("isDefault", "true")],
    )?;
    x.close("md:SPSSODescriptor")?;
    x.close("md:EntityDescriptor")?;
    x.finish()
}

/// What idhub takes from a partner IdP's metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdpMetadata {
    /// `entityID`: the Issuer its Responses must carry.
    pub entity_id: String,
    /// SSO URL for the HTTP-POST binding.
    pub sso_post_url: Option<String>,
    /// SSO URL for the HTTP-Redirect binding.
    pub sso_redirect_url: Option<String>,
    /// Certificates trusted for signatures (`use="signing"` or no `use`); never empty.
    pub signing_certificates: Vec<Certificate>,
    /// NameID formats offered.
    pub name_id_formats: Vec<String>,
    /// Whether the IdP wants signed AuthnRequests.
    pub want_authn_requests_signed: bool,
}

fn metadata_err(msg: impl Into<String>) -> SamlError {
    SamlError::Metadata(msg.into())
}

/// Read an IdP's metadata (an `EntityDescriptor`, or an `EntitiesDescriptor` holding
/// exactly one IdP).
pub fn parse_idp_metadata(xml: &str) -> Result<IdpMetadata> {
    if xml.len() > MAX_METADATA_BYTES {
        return Err(SamlError::TooLarge { limit: MAX_METADATA_BYTES });
    }
    refuse_doctype(xml)?;
    let root = dom::parse(xml)?;
    let mut entities = Vec::new();
    root.descendants(NS_METADATA, "EntityDescriptor", &mut entities);
    let idps: Vec<(&Element, &Element)> = entities
        .into_iter()
        .filter_map(|e| {
            e.children_named(NS_METADATA, "IDPSSODescriptor")
                .find(|d| d.attr("protocolSupportEnumeration").is_some_and(|p| p.split_whitespace().any(|u| u == NS_PROTOCOL)))
                .map(|d| (e, d))
        })
        .collect();
    let (entity, idp) = match idps.as_slice() {
        [one] => *one,
        [] => return Err(SamlError::UnexpectedMessage { expected: "EntityDescriptor with a SAML 2.0 IDPSSODescriptor" }),
        _ => return Err(metadata_err("the document describes more than one IdP")),
    };
    let entity_id = entity.attr("entityID").map(str::trim).filter(|s| !s.is_empty()).ok_or(SamlError::Missing("entityID"))?;
    let mut signing_certificates = Vec::new();
    for kd in idp.children_named(NS_METADATA, "KeyDescriptor") {
        match kd.attr("use").map(str::trim) {
            None | Some("") | Some("signing") => {}
            Some(_) => continue,
        }
        let mut certs = Vec::new();
        kd.descendants(NS_DSIG, "X509Certificate", &mut certs);
        for c in certs {
            let cert =
                Certificate::from_base64_der(&c.text()).map_err(|e| metadata_err(format!("a signing certificate cannot be read: {e}")))?;
            if !signing_certificates.contains(&cert) {
                signing_certificates.push(cert);
            }
        }
    }
    if signing_certificates.is_empty() {
        return Err(metadata_err("the IdP metadata has no signing certificate"));
    }
    let sso = |binding: &str| -> Result<Option<String>> {
        match idp.children_named(NS_METADATA, "SingleSignOnService").find(|s| s.attr("Binding") == Some(binding)) {
            Some(s) => {
                let url = s.attr("Location").map(str::trim).unwrap_or_default();
                if !is_http_url(url) {
                    return Err(metadata_err(format!("the SSO location {:?} is not an http(s) URL", clip(url))));
                }
                Ok(Some(url.to_string()))
            }
            None => Ok(None),
        }
    };
    let (sso_post_url, sso_redirect_url) = (sso(BINDING_POST)?, sso(BINDING_REDIRECT)?);
    if sso_post_url.is_none() && sso_redirect_url.is_none() {
        return Err(metadata_err("the IdP metadata has no HTTP-POST or HTTP-Redirect SSO endpoint"));
    }
    Ok(IdpMetadata {
        entity_id: entity_id.to_string(),
        sso_post_url,
        sso_redirect_url,
        signing_certificates,
        name_id_formats: idp.children_named(NS_METADATA, "NameIDFormat").map(|n| n.text().trim().to_string()).collect(),
        want_authn_requests_signed: matches!(idp.attr("WantAuthnRequestsSigned").map(str::trim), Some("true") | Some("1")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_http_or_https_only() {
        assert!(is_http_url("https://hub.example/sso/saml2/0oa1"));
        assert!(is_http_url("HTTP://a"));
        assert!(!is_http_url("javascript:alert(1)"));
        assert!(!is_http_url("https://"));
        assert!(!is_http_url("https:///x"));
        assert!(!is_http_url("https://a b"));
        assert!(!is_http_url("data:text/html,x"));
    }
}
