//! IdP metadata for an app: entity id, signing certificate, SSO endpoints.

use crate::xml::Xml;
use crate::Result;

/// `EntityDescriptor` of an IdP.
pub fn idp_metadata(entity_id: &str, sso_url: &str, cert_b64: &str, name_id_formats: &[&str]) -> Result<String> {
    let mut x = Xml::new();
    x.open("md:EntityDescriptor", &[("xmlns:md", "urn:oasis:names:tc:SAML:2.0:metadata"), ("entityID", entity_id)])?;
    x.open(
        "md:IDPSSODescriptor",
        &[("WantAuthnRequestsSigned", "false"), ("protocolSupportEnumeration", "urn:oasis:names:tc:SAML:2.0:protocol")],
    )?;
    x.open("md:KeyDescriptor", &[("use", "signing")])?;
    x.open("ds:KeyInfo", &[("xmlns:ds", "http://www.w3.org/2000/09/xmldsig#")])?;
    x.open("ds:X509Data", &[])?;
    x.leaf("ds:X509Certificate", &[], cert_b64)?;
    x.close("ds:X509Data")?;
    x.close("ds:KeyInfo")?;
    x.close("md:KeyDescriptor")?;
    for f in name_id_formats {
        x.leaf("md:NameIDFormat", &[], f)?;
    }
    x.empty("md:SingleSignOnService", &[("Binding", "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"), ("Location", sso_url)])?;
    x.empty("md:SingleSignOnService", &[("Binding", "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"), ("Location", sso_url)])?;
    x.close("md:IDPSSODescriptor")?;
    x.close("md:EntityDescriptor")?;
    x.finish()
}
