//! IdP routing rules (Okta's `IDP_DISCOVERY` policy rules): which identity provider a
//! sign-in goes to, by the username typed (equals / starts with / suffix / contains / a
//! regular expression) and by the app being signed in to. The first active rule by
//! priority that matches wins; no match means the org's own password sign-in.

use crate::DomainError;
use serde_json::{json, Value};

/// How a username pattern compares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pattern {
    Equals(String),
    StartsWith(String),
    Suffix(String),
    Contains(String),
    /// A regular expression the whole username must match.
    Expression(String),
}

/// Where a matching sign-in goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// The org's own sign-in page (type `OKTA`).
    Local,
    /// A SAML identity provider of the org.
    Idp(String),
}

/// A routing rule's conditions and action.
#[derive(Debug, Clone, PartialEq)]
pub struct RoutingRule {
    pub name: String,
    pub priority: i64,
    pub active: bool,
    /// Empty: any username.
    pub patterns: Vec<Pattern>,
    /// Empty: any app (or no app).
    pub apps: Vec<String>,
    pub route: Route,
}

fn text<'a>(v: &'a Value, ptr: &str) -> Option<&'a str> {
    v.pointer(ptr).and_then(Value::as_str)
}

impl RoutingRule {
    /// Parse and validate a rule body (Okta's policy-rule shape).
    pub fn from_okta(body: &Value) -> Result<RoutingRule, DomainError> {
        let name = text(body, "/name")
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .ok_or_else(|| DomainError::invalid("name", "The field cannot be left blank"))?;
        if name.chars().count() > 100 {
            return Err(DomainError::invalid("name", "Must be at most 100 characters"));
        }
        let priority = body.get("priority").and_then(Value::as_i64).unwrap_or(1);
        if !(1..=1000).contains(&priority) {
            return Err(DomainError::invalid("priority", "must be between 1 and 1000"));
        }
        let active = match text(body, "/status").unwrap_or("ACTIVE") {
            "ACTIVE" => true,
            "INACTIVE" => false,
            _ => return Err(DomainError::invalid("status", "must be ACTIVE or INACTIVE")),
        };
        let mut patterns = vec![];
        if let Some(list) = body.pointer("/conditions/userIdentifier/patterns").and_then(Value::as_array) {
            for p in list {
                let value = text(p, "/value")
                    .filter(|v| !v.is_empty())
                    .ok_or_else(|| DomainError::invalid("conditions.userIdentifier.patterns", "each pattern needs a value"))?;
                patterns.push(match text(p, "/matchType").unwrap_or("EQUALS") {
                    "EQUALS" => Pattern::Equals(value.to_lowercase()),
                    "STARTS_WITH" => Pattern::StartsWith(value.to_lowercase()),
                    "SUFFIX" => Pattern::Suffix(value.to_lowercase()),
                    "CONTAINS" => Pattern::Contains(value.to_lowercase()),
                    "EXPRESSION" => {
                        compile(value)?;
                        Pattern::Expression(value.to_string())
                    }
                    _ => {
                        return Err(DomainError::invalid(
                            "conditions.userIdentifier.patterns.matchType",
                            "must be EQUALS, STARTS_WITH, SUFFIX, CONTAINS or EXPRESSION",
                        ))
                    }
                });
            }
        }
        let apps = body
            .pointer("/conditions/app/include")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
            .unwrap_or_default();
        let providers = body.pointer("/actions/idp/providers").and_then(Value::as_array).cloned().unwrap_or_default();
        let route = match providers.as_slice() {
            [p] => match (text(p, "/type"), text(p, "/id")) {
                (Some("OKTA"), _) => Route::Local,
                (Some("SAML2"), Some(id)) if !id.is_empty() => Route::Idp(id.to_string()),
                _ => {
                    return Err(DomainError::invalid(
                        "actions.idp.providers",
                        "a provider is {\"type\":\"OKTA\"} or {\"type\":\"SAML2\",\"id\":…}",
                    ))
                }
            },
            _ => return Err(DomainError::invalid("actions.idp.providers", "exactly one identity provider is required")),
        };
        Ok(RoutingRule { name: name.to_string(), priority, active, patterns, apps, route })
    }

    /// Does a sign-in by `username` (to `app`, if any) match?
    pub fn matches(&self, username: &str, app: Option<&str>) -> bool {
        if !self.active {
            return false;
        }
        if !self.apps.is_empty() && !app.is_some_and(|a| self.apps.iter().any(|x| x == a)) {
            return false;
        }
        let u = username.trim().to_lowercase();
        self.patterns.is_empty()
            || self.patterns.iter().any(|p| match p {
                Pattern::Equals(v) => u == *v,
                Pattern::StartsWith(v) => u.starts_with(v.as_str()),
                Pattern::Suffix(v) => u.ends_with(v.as_str()),
                Pattern::Contains(v) => u.contains(v.as_str()),
                Pattern::Expression(e) => compile(e).map(|re| re.is_match(username.trim())).unwrap_or(false),
            })
    }

    /// The rule in Okta's shape (without server fields).
    pub fn to_okta(&self) -> Value {
        let patterns: Vec<Value> = self
            .patterns
            .iter()
            .map(|p| {
                let (t, v) = match p {
                    Pattern::Equals(v) => ("EQUALS", v),
                    Pattern::StartsWith(v) => ("STARTS_WITH", v),
                    Pattern::Suffix(v) => ("SUFFIX", v),
                    Pattern::Contains(v) => ("CONTAINS", v),
                    Pattern::Expression(v) => ("EXPRESSION", v),
                };
                json!({ "matchType": t, "value": v })
            })
            .collect();
        let provider = match &self.route {
            Route::Local => json!({ "type": "OKTA" }),
            Route::Idp(id) => json!({ "type": "SAML2", "id": id }),
        };
        json!({
            "type": "IDP_DISCOVERY",
            "name": self.name,
            "priority": self.priority,
            "status": if self.active { "ACTIVE" } else { "INACTIVE" },
            "conditions": {
                "userIdentifier": { "type": "IDENTIFIER", "patterns": patterns },
                "app": { "include": self.apps, "exclude": [] }
            },
            "actions": { "idp": { "providers": [provider] } }
        })
    }
}

fn compile(e: &str) -> Result<regex::Regex, DomainError> {
    regex::RegexBuilder::new(&format!("^(?:{e})$"))
        .size_limit(1 << 20)
        .build()
        .map_err(|err| DomainError::invalid("conditions.userIdentifier.patterns.value", format!("not a valid regular expression: {err}")))
}

/// The route of the first matching rule (rules in priority order).
pub fn route<'a>(rules: impl IntoIterator<Item = &'a RoutingRule>, username: &str, app: Option<&str>) -> Option<&'a Route> {
    rules.into_iter().find(|r| r.matches(username, app)).map(|r| &r.route)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(patterns: Value, apps: Value, provider: Value) -> RoutingRule {
        RoutingRule::from_okta(&json!({
            "name": "r", "priority": 1,
            "conditions": { "userIdentifier": { "type": "IDENTIFIER", "patterns": patterns }, "app": { "include": apps } },
            "actions": { "idp": { "providers": [provider] } }
        }))
        .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn suffix_expression_and_app_conditions() {
        let partner =
            rule(json!([{ "matchType": "SUFFIX", "value": "@Partner.example" }]), json!([]), json!({ "type": "SAML2", "id": "0oa1" }));
        assert!(partner.matches("ann@partner.EXAMPLE", None));
        assert!(!partner.matches("ann@hub.example", None));
        let re = rule(json!([{ "matchType": "EXPRESSION", "value": "[a-z]+\\.ext@.*" }]), json!(["0oaApp"]), json!({ "type": "OKTA" }));
        assert!(re.matches("bob.ext@x", Some("0oaApp")));
        assert!(!re.matches("bob.ext@x", Some("0oaOther")), "only for the named app");
        assert!(!re.matches("bob.ext@x", None));
        assert_eq!(route([&partner, &re], "z@partner.example", None), Some(&Route::Idp("0oa1".into())));
        assert_eq!(route([&partner, &re], "z@elsewhere", None), None);
        let again = RoutingRule::from_okta(&partner.to_okta()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(again, partner);
    }

    #[test]
    fn invalid_rules_name_the_field() {
        let bad = [
            json!({ "name": "", "actions": { "idp": { "providers": [{ "type": "OKTA" }] } } }),
            json!({ "name": "x", "actions": { "idp": { "providers": [] } } }),
            json!({ "name": "x", "conditions": { "userIdentifier": { "patterns": [{ "matchType": "EXPRESSION", "value": "(" }] } }, "actions": { "idp": { "providers": [{ "type": "OKTA" }] } } }),
            json!({ "name": "x", "conditions": { "userIdentifier": { "patterns": [{ "matchType": "SOUNDS_LIKE", "value": "a" }] } }, "actions": { "idp": { "providers": [{ "type": "OKTA" }] } } }),
        ];
        for b in bad {
            assert!(RoutingRule::from_okta(&b).is_err(), "{b}");
        }
    }
}
