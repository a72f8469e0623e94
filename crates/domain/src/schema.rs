//! The user profile schema: Okta's base attributes plus each org's custom attributes,
//! and validation of a profile against them (types, required, length, unknown names).

use crate::DomainError;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

/// The JSON type of an attribute (Okta's schema `type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AttrType {
    String,
    Boolean,
    Integer,
    Number,
    Array,
}

/// One attribute definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attribute {
    pub name: String,
    pub title: String,
    #[serde(rename = "type")]
    pub kind: AttrType,
    #[serde(default)]
    pub required: bool,
    #[serde(default, rename = "minLength", skip_serializing_if = "Option::is_none")]
    pub min_length: Option<u32>,
    #[serde(default, rename = "maxLength", skip_serializing_if = "Option::is_none")]
    pub max_length: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// For `array`: the item type.
    #[serde(default, rename = "itemType", skip_serializing_if = "Option::is_none")]
    pub item_type: Option<AttrType>,
    /// Extra formats Okta knows: `email`, `country-code`, `locale`, `uri`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
}

impl Attribute {
    fn base(name: &str, title: &str, required: bool, min: Option<u32>, max: Option<u32>, format: Option<&str>) -> Self {
        Attribute {
            name: name.to_string(),
            title: title.to_string(),
            kind: AttrType::String,
            required,
            min_length: min,
            max_length: max,
            description: None,
            item_type: None,
            format: format.map(str::to_string),
        }
    }
}

/// Okta's base user profile attributes.
pub fn base_attributes() -> Vec<Attribute> {
    let s = |n: &str, t: &str| Attribute::base(n, t, false, None, Some(1024), None);
    vec![
        Attribute::base("login", "Username", true, Some(5), Some(100), None),
        Attribute::base("firstName", "First name", true, Some(1), Some(50), None),
        Attribute::base("lastName", "Last name", true, Some(1), Some(50), None),
        s("middleName", "Middle name"),
        s("honorificPrefix", "Honorific prefix"),
        s("honorificSuffix", "Honorific suffix"),
        Attribute::base("email", "Primary email", true, Some(5), Some(100), Some("email")),
        s("title", "Title"),
        s("displayName", "Display name"),
        s("nickName", "Nickname"),
        s("profileUrl", "Profile Url"),
        Attribute::base("secondEmail", "Secondary email", false, Some(5), Some(100), Some("email")),
        s("mobilePhone", "Mobile phone"),
        s("primaryPhone", "Primary phone"),
        s("streetAddress", "Street address"),
        s("city", "City"),
        s("state", "State"),
        s("zipCode", "Zip code"),
        Attribute::base("countryCode", "Country code", false, None, Some(2), Some("country-code")),
        s("postalAddress", "Postal Address"),
        s("preferredLanguage", "Preferred language"),
        s("locale", "Locale"),
        s("timezone", "Time zone"),
        s("userType", "User type"),
        s("employeeNumber", "Employee number"),
        s("costCenter", "Cost center"),
        s("organization", "Organization"),
        s("division", "Division"),
        s("department", "Department"),
        s("managerId", "ManagerId"),
        s("manager", "Manager"),
    ]
}

/// An org's profile schema: the base attributes and its custom ones.
#[derive(Debug, Clone, PartialEq)]
pub struct UserSchema {
    pub base: Vec<Attribute>,
    pub custom: Vec<Attribute>,
}

/// How strictly to apply `required`: a partial update checks only what it sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Completeness {
    Full,
    Partial,
}

fn valid_attr_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic()) && chars.all(|c| c.is_ascii_alphanumeric() || c == '_') && name.len() <= 64
}

fn looks_like_email(s: &str) -> bool {
    match s.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.is_empty()
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !s.contains(char::is_whitespace)
        }
        None => false,
    }
}

impl UserSchema {
    /// The schema with only Okta's base attributes.
    pub fn with_custom(custom: Vec<Attribute>) -> Self {
        UserSchema { base: base_attributes(), custom }
    }

    /// Find an attribute by name (base first).
    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
        self.base.iter().chain(self.custom.iter()).find(|a| a.name == name)
    }

    /// Check a custom attribute definition before it is added or changed.
    pub fn check_custom(&self, attr: &Attribute) -> Result<(), DomainError> {
        if !valid_attr_name(&attr.name) {
            return Err(DomainError::invalid(
                &attr.name,
                "Property names must start with a letter and contain only letters, digits and underscores (at most 64)",
            ));
        }
        if self.base.iter().any(|a| a.name == attr.name) {
            return Err(DomainError::invalid(&attr.name, "A base property with this name already exists"));
        }
        if let (Some(min), Some(max)) = (attr.min_length, attr.max_length) {
            if min > max {
                return Err(DomainError::invalid(&attr.name, "minLength must not be greater than maxLength"));
            }
        }
        if attr.kind == AttrType::Array && attr.item_type.is_none() {
            return Err(DomainError::invalid(&attr.name, "An array property needs items.type"));
        }
        crate::text::refuse_control(&format!("{}.title", attr.name), &attr.title)?;
        crate::text::refuse_control(&format!("{}.description", attr.name), attr.description.as_deref().unwrap_or_default())
    }

    /// Validate a profile. Null values are allowed for optional attributes (they unset it).
    pub fn validate(&self, profile: &Map<String, Value>, completeness: Completeness) -> Result<(), DomainError> {
        let mut causes = Vec::new();
        for (name, value) in profile {
            let Some(attr) = self.attribute(name) else {
                causes.push(format!("{name}: Property name '{name}' is not defined in profile"));
                continue;
            };
            if value.is_null() {
                if attr.required {
                    causes.push(format!("{name}: The field cannot be left blank"));
                }
                continue;
            }
            if let Err(msg) = check_value(attr, value) {
                causes.push(format!("{name}: {msg}"));
            }
        }
        if completeness == Completeness::Full {
            for attr in self.base.iter().chain(self.custom.iter()).filter(|a| a.required) {
                if !profile.contains_key(&attr.name) {
                    causes.push(format!("{}: The field cannot be left blank", attr.name));
                }
            }
        }
        if causes.is_empty() {
            Ok(())
        } else {
            let fields: Vec<&str> = causes.iter().filter_map(|c| c.split(':').next()).collect();
            Err(DomainError::Validation { summary: fields.join(", "), causes })
        }
    }

    /// The schema as Okta's JSON (`GET /api/v1/meta/schemas/user/default`).
    pub fn to_okta_json(&self, base_url: &str) -> Value {
        let props = |attrs: &[Attribute], is_base: bool| {
            let mut m = Map::new();
            for a in attrs {
                let mut p = Map::new();
                p.insert("title".into(), json!(a.title));
                p.insert("type".into(), json!(a.kind));
                if a.required {
                    p.insert("required".into(), json!(true));
                }
                if let Some(d) = &a.description {
                    p.insert("description".into(), json!(d));
                }
                if let Some(f) = &a.format {
                    p.insert("format".into(), json!(f));
                }
                if let Some(min) = a.min_length {
                    p.insert("minLength".into(), json!(min));
                }
                if let Some(max) = a.max_length {
                    p.insert("maxLength".into(), json!(max));
                }
                if let Some(it) = a.item_type {
                    p.insert("items".into(), json!({ "type": it }));
                }
                p.insert("mutability".into(), json!("READ_WRITE"));
                p.insert("scope".into(), json!("NONE"));
                p.insert("permissions".into(), json!([{ "principal": "SELF", "action": "READ_WRITE" }]));
                p.insert("master".into(), json!({ "type": "PROFILE_MASTER" }));
                if a.name == "login" {
                    p.insert("unique".into(), json!("UNIQUE_VALIDATED"));
                }
                if !is_base {
                    p.insert("union".into(), json!("DISABLE"));
                }
                m.insert(a.name.clone(), Value::Object(p));
            }
            m
        };
        let required = |attrs: &[Attribute]| -> Vec<String> { attrs.iter().filter(|a| a.required).map(|a| a.name.clone()).collect() };
        json!({
            "id": format!("{base_url}/meta/schemas/user/default"),
            "$schema": "http://json-schema.org/draft-04/schema#",
            "name": "user",
            "title": "User",
            "description": "User profile schema",
            "lastUpdated": null,
            "created": null,
            "definitions": {
                "base": { "id": "#base", "type": "object", "properties": props(&self.base, true), "required": required(&self.base) },
                "custom": { "id": "#custom", "type": "object", "properties": props(&self.custom, false), "required": required(&self.custom) },
            },
            "type": "object",
            "properties": { "profile": { "allOf": [ { "$ref": "#/definitions/custom" }, { "$ref": "#/definitions/base" } ] } },
            "_links": { "self": { "href": format!("{base_url}/api/v1/meta/schemas/user/default"), "method": "GET" } }
        })
    }

    /// Parse the `definitions.custom.properties` of an Okta schema update body into
    /// attribute definitions. A property whose value is `null` means "remove it".
    pub fn parse_custom_update(body: &Value) -> Result<Vec<(String, Option<Attribute>)>, DomainError> {
        let Some(props) = body.pointer("/definitions/custom/properties").and_then(Value::as_object) else {
            return Err(DomainError::invalid("definitions.custom.properties", "An object of custom properties is required"));
        };
        let required: Vec<&str> = body
            .pointer("/definitions/custom/required")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let mut out = Vec::new();
        for (name, def) in props {
            if def.is_null() {
                out.push((name.clone(), None));
                continue;
            }
            let obj = def.as_object().ok_or_else(|| DomainError::invalid(name, "A property definition must be an object"))?;
            let kind: AttrType = obj
                .get("type")
                .cloned()
                .and_then(|t| serde_json::from_value(t).ok())
                .ok_or_else(|| DomainError::invalid(name, "type must be one of string, boolean, integer, number, array"))?;
            let num = |k: &str| -> Result<Option<u32>, DomainError> {
                match obj.get(k) {
                    None | Some(Value::Null) => Ok(None),
                    Some(v) => v
                        .as_u64()
                        .and_then(|n| u32::try_from(n).ok())
                        .map(Some)
                        .ok_or_else(|| DomainError::invalid(name, format!("{k} must be a non-negative integer"))),
                }
            };
            let item_type = match obj.get("items").and_then(|i| i.get("type")) {
                Some(t) => {
                    Some(serde_json::from_value(t.clone()).map_err(|_| DomainError::invalid(name, "items.type is not a valid type"))?)
                }
                None => None,
            };
            let attr = Attribute {
                name: name.clone(),
                title: obj.get("title").and_then(Value::as_str).unwrap_or(name).to_string(),
                kind,
                required: required.contains(&name.as_str()) || obj.get("required").and_then(Value::as_bool).unwrap_or(false),
                min_length: num("minLength")?,
                max_length: num("maxLength")?,
                description: obj.get("description").and_then(Value::as_str).map(str::to_string),
                item_type,
                format: None,
            };
            out.push((name.clone(), Some(attr)));
        }
        Ok(out)
    }
}

fn check_value(attr: &Attribute, value: &Value) -> Result<(), String> {
    match attr.kind {
        AttrType::String => {
            let s = value.as_str().ok_or("Does not match required type: string")?;
            if crate::text::has_control(s) {
                return Err(crate::text::CONTROL_CHARACTERS.into());
            }
            check_length(attr, s)?;
            if attr.format.as_deref() == Some("email") && !looks_like_email(s) {
                return Err("Does not match required pattern: email address".into());
            }
            if attr.required && s.trim().is_empty() {
                return Err("The field cannot be left blank".into());
            }
            Ok(())
        }
        AttrType::Boolean => value.as_bool().map(|_| ()).ok_or_else(|| "Does not match required type: boolean".into()),
        AttrType::Integer => value.as_i64().map(|_| ()).ok_or_else(|| "Does not match required type: integer".into()),
        AttrType::Number => value.as_f64().map(|_| ()).ok_or_else(|| "Does not match required type: number".into()),
        AttrType::Array => {
            let items = value.as_array().ok_or("Does not match required type: array")?;
            let item_attr =
                Attribute { kind: attr.item_type.unwrap_or(AttrType::String), item_type: None, required: false, ..attr.clone() };
            for item in items {
                check_value(&item_attr, item)?;
            }
            Ok(())
        }
    }
}

fn check_length(attr: &Attribute, s: &str) -> Result<(), String> {
    let n = s.chars().count() as u32;
    if let Some(min) = attr.min_length {
        if n < min {
            return Err(format!("Must be at least {min} characters"));
        }
    }
    if let Some(max) = attr.max_length {
        if n > max {
            return Err(format!("Must be at most {max} characters"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    fn ok_profile() -> Value {
        json!({"login": "sarah@example.com", "email": "sarah@example.com", "firstName": "Sarah", "lastName": "Lee"})
    }

    #[test]
    fn a_complete_profile_passes() {
        let s = UserSchema::with_custom(vec![]);
        assert!(s.validate(&profile(ok_profile()), Completeness::Full).is_ok());
    }

    #[test]
    fn missing_required_fields_are_named() {
        let s = UserSchema::with_custom(vec![]);
        let err = s.validate(&profile(json!({"login": "sarah@example.com"})), Completeness::Full);
        let causes = match err {
            Err(DomainError::Validation { causes, .. }) => causes,
            other => {
                assert!(other.is_err(), "expected a validation error");
                vec![]
            }
        };
        assert_eq!(causes.len(), 3);
        assert!(causes.iter().any(|c| c.starts_with("email:")));
        // A partial update only checks what it sends.
        assert!(s.validate(&profile(json!({"login": "sarah@example.com"})), Completeness::Partial).is_ok());
    }

    #[test]
    fn unknown_attributes_types_and_lengths_are_refused() {
        let s = UserSchema::with_custom(vec![]);
        let mut p = ok_profile();
        p["favoriteColor"] = json!("blue");
        assert!(s.validate(&profile(p), Completeness::Full).is_err());
        let mut p = ok_profile();
        p["login"] = json!("abc");
        assert!(s.validate(&profile(p), Completeness::Full).is_err());
        let mut p = ok_profile();
        p["firstName"] = json!(42);
        assert!(s.validate(&profile(p), Completeness::Full).is_err());
        let mut p = ok_profile();
        p["email"] = json!("not-an-email");
        assert!(s.validate(&profile(p), Completeness::Full).is_err());
        let mut p = ok_profile();
        p["countryCode"] = json!("USA");
        assert!(s.validate(&profile(p), Completeness::Full).is_err());
        let mut p = ok_profile();
        p["firstName"] = json!(null);
        assert!(s.validate(&profile(p), Completeness::Full).is_err());
        let mut p = ok_profile();
        p["title"] = json!(null);
        assert!(s.validate(&profile(p), Completeness::Full).is_ok());
        for bad in ["a\u{0}b", "x\u{b}", "x\u{c}", "\u{85}x", "sarah\u{0}@example.com"] {
            let mut p = ok_profile();
            p["login"] = json!(bad);
            p["title"] = json!(bad);
            let err = s.validate(&profile(p), Completeness::Full);
            let Err(DomainError::Validation { summary, causes }) = err else { panic!("{bad:?} accepted") };
            assert_eq!(summary, "login, title");
            assert_eq!(causes[1], "title: Must not contain control characters");
        }
    }

    #[test]
    fn custom_attributes_are_validated() {
        let body = json!({"definitions": {"custom": {"properties": {
            "employeeLevel": {"title": "Level", "type": "integer"},
            "badge": {"title": "Badge", "type": "string", "minLength": 2, "maxLength": 4},
            "tags": {"title": "Tags", "type": "array", "items": {"type": "string"}}
        }, "required": ["badge"]}}});
        let parsed = UserSchema::parse_custom_update(&body).unwrap_or_default();
        let custom: Vec<Attribute> = parsed.into_iter().filter_map(|(_, a)| a).collect();
        assert_eq!(custom.len(), 3);
        let s = UserSchema::with_custom(custom);
        let mut p = ok_profile();
        p["badge"] = json!("AB");
        p["employeeLevel"] = json!(3);
        p["tags"] = json!(["x", "y"]);
        assert!(s.validate(&profile(p.clone()), Completeness::Full).is_ok());
        p["employeeLevel"] = json!("three");
        assert!(s.validate(&profile(p.clone()), Completeness::Full).is_err());
        p["employeeLevel"] = json!(3);
        p["tags"] = json!([1]);
        assert!(s.validate(&profile(p.clone()), Completeness::Full).is_err());
        // badge is required
        let base = ok_profile();
        assert!(s.validate(&profile(base), Completeness::Full).is_err());
    }

    #[test]
    fn custom_definitions_are_checked() {
        let s = UserSchema::with_custom(vec![]);
        let mut a = Attribute::base("login", "x", false, None, None, None);
        assert!(s.check_custom(&a).is_err());
        a.name = "9bad".into();
        assert!(s.check_custom(&a).is_err());
        a.name = "good_name".into();
        assert!(s.check_custom(&a).is_ok());
        a.min_length = Some(5);
        a.max_length = Some(2);
        assert!(s.check_custom(&a).is_err());
    }

    #[test]
    fn schema_json_has_okta_shape() {
        let s = UserSchema::with_custom(vec![]);
        let j = s.to_okta_json("http://x");
        assert_eq!(j["definitions"]["base"]["properties"]["login"]["type"], "string");
        assert!(j["definitions"]["base"]["required"].as_array().map(|a| a.len()).unwrap_or(0) >= 4);
    }
}
