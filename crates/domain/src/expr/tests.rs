//! Tests of the expression language.
use super::*;
use serde_json::json;

fn ctx() -> MapContext {
    MapContext::new()
        .with_root("idpuser", json!({"subjectNameId": "jdoe@spoke.example", "email": "Jane.Doe@Spoke.Example", "empty": ""}))
        .with_root(
            "user",
            json!({
                "login": "jane@old.com", "email": "jane.doe@example.com", "firstName": "Jane",
                "lastName": "Doe", "department": null, "title": "", "age": 42, "active": true,
                "groups": ["Staff", "Contractors"], "flag": "TRUE", "pattern": "(", "address": {"city": "Oslo"}
            }),
        )
        .with_group("Contractors")
}

fn eval(src: &str) -> Value {
    match Expression::parse(src) {
        Ok(e) => match e.evaluate(&ctx()) {
            Ok(v) => v,
            Err(err) => unreachable!("evaluating {src:?}: {err}"),
        },
        Err(err) => unreachable!("parsing {src:?}: {err}"),
    }
}

fn eval_str(src: &str) -> Option<String> {
    Expression::parse(src).and_then(|e| e.evaluate_string(&ctx())).unwrap_or_else(|e| unreachable!("{src:?}: {e}"))
}

fn parse_err(src: &str) -> (usize, String) {
    match Expression::parse(src) {
        Ok(_) => unreachable!("{src:?} should not parse"),
        Err(e) => (e.position, e.message),
    }
}

fn eval_err(src: &str) -> (usize, String) {
    let parsed = Expression::parse(src).unwrap_or_else(|e| unreachable!("{src:?}: {e}"));
    match parsed.evaluate(&ctx()) {
        Ok(v) => unreachable!("{src:?} should fail, gave {v}"),
        Err(e) => (e.position, e.message),
    }
}

#[test]
fn expressions_admins_write() {
    assert_eq!(eval_str("idpuser.subjectNameId").as_deref(), Some("jdoe@spoke.example"));
    assert_eq!(eval_str("idpuser.email").as_deref(), Some("Jane.Doe@Spoke.Example"));
    assert_eq!(eval_str(r#"String.substringBefore(user.email, "@")"#).as_deref(), Some("jane.doe"));
    assert_eq!(eval_str(r#"user.firstName + " " + user.lastName"#).as_deref(), Some("Jane Doe"));
    assert_eq!(eval_str("String.toLowerCase(idpuser.email)").as_deref(), Some("jane.doe@spoke.example"));
    assert_eq!(eval_str(r#"user.department ?: "none""#).as_deref(), Some("none"));
    assert_eq!(eval_str(r#"isMemberOfGroupName("Contractors") ? "c" : "e""#).as_deref(), Some("c"));
    assert_eq!(eval_str(r#"isMemberOfGroupName("Employees") ? "c" : "e""#).as_deref(), Some("e"));
    assert_eq!(eval_str(r#"String.replace(user.login, "@old\\.com$", "@new.com")"#).as_deref(), Some("jane@new.com"));
    // a single backslash before a non-escape character is kept, so regexes read naturally
    assert_eq!(eval_str(r#"String.replace(user.login, "@old\.com$", "@new.com")"#).as_deref(), Some("jane@new.com"));
}

#[test]
fn source_roots_display() {
    let e = Expression::parse("idpuser.subjectNameId").unwrap_or_else(|e| unreachable!("{e}"));
    assert_eq!(e.source(), "idpuser.subjectNameId");
    assert_eq!(e.roots(), vec!["idpuser".to_owned()]);
    assert_eq!(e.to_string(), "idpuser.subjectNameId");
    let e: Expression = r#"user.a + idpuser.b + String.join(",", user.c, app.d) + org.x.y"#.parse().unwrap_or_else(|e| unreachable!("{e}"));
    assert_eq!(e.roots(), vec!["app", "idpuser", "org", "user"]);
    let vars: Vec<String> = e.variables().iter().map(|(r, p)| format!("{r}.{}", p.join("."))).collect();
    assert_eq!(vars, vec!["app.d", "idpuser.b", "org.x.y", "user.a", "user.c"]);
    assert!(Expression::parse(r#""lit""#).map(|e| e.roots().is_empty()).unwrap_or(false));
}

#[test]
fn null_handling() {
    assert_eq!(eval("user.missing"), Value::Null);
    assert_eq!(eval("nosuchroot.x.y"), Value::Null);
    assert_eq!(eval("user.address.city"), json!("Oslo"));
    assert_eq!(eval("user.address.city.more"), Value::Null);
    assert_eq!(eval_str("user.missing"), None);
    assert_eq!(eval_str("null"), None);
    assert_eq!(eval("String.toLowerCase(user.missing)"), Value::Null);
    assert_eq!(eval(r#"String.substringBefore(user.missing, "@")"#), Value::Null);
    assert_eq!(eval(r#"String.replace(user.missing, "a", "b")"#), Value::Null);
    assert_eq!(eval(r#"user.firstName + " " + user.missing"#), json!("Jane "));
    assert_eq!(eval("user.missing + user.missing"), json!(""));
    assert_eq!(eval(r#"String.stringContains(user.missing, "a")"#), json!(false));
    assert_eq!(eval("String.len(user.missing)"), json!(0));
    assert_eq!(eval("user.missing == null"), json!(true));
    assert_eq!(eval("user.department == null"), json!(true));
    assert_eq!(eval("!user.missing"), json!(true));
    assert_eq!(eval(r#"user.title ?: "t""#), json!("t"));
    assert_eq!(eval(r#"user.firstName ?: "t""#), json!("Jane"));
    assert_eq!(eval(r#"user.missing ?: user.missing2 ?: "last""#), json!("last"));
    assert_eq!(eval(r#"isMemberOfGroupName(user.missing)"#), json!(false));
    assert_eq!(eval("Arrays.contains(user.missing, 1)"), json!(false));
}

#[test]
fn literals_and_escapes() {
    assert_eq!(eval("'single'"), json!("single"));
    assert_eq!(eval(r#""a\"b\'c\\d\n\t\u00e9""#), json!("a\"b'c\\d\n\té"));
    assert_eq!(eval("'it''s'"), json!("it's"));
    assert_eq!(eval(r#"'say "hi"'"#), json!("say \"hi\""));
    assert_eq!(eval("42"), json!(42));
    assert_eq!(eval("true"), json!(true));
    assert_eq!(eval("false"), json!(false));
    assert_eq!(eval("null"), Value::Null);
    assert_eq!(eval("'ünïcödé'"), json!("ünïcödé"));
}

#[test]
fn concatenation_stringifies() {
    assert_eq!(eval(r#""age " + user.age"#), json!("age 42"));
    assert_eq!(eval(r#"user.active + "!""#), json!("true!"));
    assert_eq!(eval("1 + 2"), json!("12"));
    assert_eq!(eval_str("user.age").as_deref(), Some("42"));
    assert_eq!(eval_str("user.active").as_deref(), Some("true"));
}

#[test]
fn logic_comparison_and_precedence() {
    assert_eq!(eval(r#"user.firstName == "Jane""#), json!(true));
    assert_eq!(eval(r#"user.firstName != "Jane""#), json!(false));
    assert_eq!(eval("user.age == 42"), json!(true));
    assert_eq!(eval(r#"user.age == "42""#), json!(false));
    assert_eq!(eval(r#"user.firstName + "x" == "Janex""#), json!(true));
    assert_eq!(eval("true || false && false"), json!(true));
    assert_eq!(eval("(true || false) && false"), json!(false));
    assert_eq!(eval("!true || true"), json!(true));
    assert_eq!(eval("!(true || true)"), json!(false));
    assert_eq!(eval("!!true"), json!(true));
    assert_eq!(eval("user.flag && user.active"), json!(true));
    assert_eq!(eval(r#"true ? "a" : false ? "b" : "c""#), json!("a"));
    assert_eq!(eval(r#"false ? "a" : false ? "b" : "c""#), json!("c"));
    assert_eq!(eval(r#"false ? "a" : user.missing ?: "d""#), json!("d"));
    assert_eq!(eval(r#"1 == 1 == true"#), json!(true));
    // short-circuit: the right side would be an error
    assert_eq!(eval(r#"false && user.age"#), json!(false));
    assert_eq!(eval(r#"true || user.age"#), json!(true));
}

#[test]
fn string_functions() {
    assert_eq!(eval(r#"String.substringAfter(user.email, "@")"#), json!("example.com"));
    assert_eq!(eval(r#"String.substringAfter(user.email, "~")"#), json!(""));
    assert_eq!(eval(r#"String.substringBefore(user.email, "~")"#), json!("jane.doe@example.com"));
    assert_eq!(eval("String.toUpperCase(user.firstName)"), json!("JANE"));
    assert_eq!(eval(r#"String.replace("a1b22c333", "[0-9]+", "~")"#), json!("a~b~c~"));
    assert_eq!(eval(r#"String.replaceFirst("a1b22c333", "[0-9]+", "~")"#), json!("a~b22c333"));
    assert_eq!(eval(r#"String.replace(user.email, "^([^.]+)\\.([^@]+)@.*$", "$2, $1")"#), json!("doe, jane"));
    // Java semantics: $1a is group 1 then "a"; $12 with one group is group 1 then "2"
    assert_eq!(eval(r#"String.replace("xy", "(x)", "$1a$12")"#), json!("xax2y"));
    assert_eq!(eval(r#"String.replace("xy", "(?P<w>x)", "[${w}] \$")"#), json!("[x] $y"));
    assert_eq!(eval(r#"String.replace(user.login, user.missing, "z")"#), json!("jane@old.com"));
    assert_eq!(eval(r#"String.stringContains(user.email, "doe")"#), json!(true));
    assert_eq!(eval(r#"String.stringContains(user.email, "smith")"#), json!(false));
    assert_eq!(eval(r#"String.startsWith(user.email, "jane")"#), json!(true));
    assert_eq!(eval(r#"String.startsWith(user.email, "doe")"#), json!(false));
    assert_eq!(eval(r#"String.join(" ", user.firstName, user.missing, user.lastName)"#), json!("Jane Doe"));
    assert_eq!(eval(r#"String.join(",", user.groups, "x")"#), json!("Staff,Contractors,x"));
    assert_eq!(eval(r#"String.join(",")"#), json!(""));
    assert_eq!(eval("String.len('héllo')"), json!(5));
    assert_eq!(eval("String.substring('abcdef', 1, 3)"), json!("bc"));
    assert_eq!(eval("String.substring('abcdef', 4, 100)"), json!("ef"));
    assert_eq!(eval("String.substring('abcdef', 3, 1)"), json!(""));
    assert_eq!(eval("String.substring('héllo', '1', 2)"), json!("é"));
    assert_eq!(eval("String.trim('  pad  ')"), json!("pad"));
    assert_eq!(eval(r#"Arrays.contains(user.groups, "Staff")"#), json!(true));
    assert_eq!(eval(r#"Arrays.contains(user.groups, "Admins")"#), json!(false));
    assert_eq!(eval(r#"Arrays.contains(user.firstName, "Jane")"#), json!(true));
}

#[test]
fn custom_context_and_default_membership() {
    struct Only;
    impl EvalContext for Only {
        fn lookup(&self, root: &str, path: &[&str]) -> Option<Value> {
            Some(json!(format!("{root}:{}", path.join("/"))))
        }
    }
    let e = Expression::parse(r#"a.b.c + (isMemberOfGroupName("x") ? "!" : "")"#).unwrap_or_else(|e| unreachable!("{e}"));
    assert_eq!(e.evaluate(&Only), Ok(json!("a:b/c")));
    let e = Expression::parse("root").unwrap_or_else(|e| unreachable!("{e}"));
    assert_eq!(e.evaluate_string(&Only), Ok(Some("root:".to_owned())));
}

#[test]
fn parse_errors_with_positions() {
    assert_eq!(parse_err(r#"user.login + "abc"#), (13, "unterminated string literal".to_owned()));
    assert_eq!(parse_err("'abc\\"), (0, "unterminated string literal".to_owned()));
    assert_eq!(parse_err(r#"String.frobnicate(user.login)"#), (0, "unknown function 'String.frobnicate'".to_owned()));
    assert_eq!(parse_err(r#"user.login + user.trim(x)"#), (13, "unknown function 'user.trim'".to_owned()));
    assert_eq!(parse_err(r#""x" + String.toLowerCase(a, b)"#), (6, "String.toLowerCase expects 1 argument but got 2".to_owned()));
    assert_eq!(parse_err("String.substring(a)"), (0, "String.substring expects 3 arguments but got 1".to_owned()));
    assert_eq!(parse_err("String.join()"), (0, "String.join expects at least 1 argument but got 0".to_owned()));
    assert_eq!(parse_err("user.login user.email"), (11, "unexpected 'user' after the end of the expression".to_owned()));
    assert_eq!(parse_err("(a))").0, 3);
    assert_eq!(parse_err("").0, 0);
    assert_eq!(parse_err("   ").0, 3);
    assert_eq!(parse_err("a +").0, 3);
    assert_eq!(parse_err("(a + b").0, 6);
    assert_eq!(parse_err("a ? b").0, 5);
    assert_eq!(parse_err("a # b"), (2, "unexpected character '#'".to_owned()));
    assert_eq!(parse_err("a & b"), (2, "unexpected character '&' (did you mean '&&'?)".to_owned()));
    assert_eq!(parse_err("a = b").0, 2);
    assert_eq!(parse_err("user.").0, 5);
    assert_eq!(parse_err("user.1").0, 5);
    assert_eq!(parse_err("null.x").0, 4);
    assert_eq!(parse_err("String.trim(a b)").0, 14);
    assert_eq!(parse_err("String.trim(a,)").0, 14);
    assert_eq!(parse_err("99999999999999999999"), (0, "number 99999999999999999999 is too large".to_owned()));
    assert_eq!(parse_err("12ab"), (0, "malformed number".to_owned()));
    assert_eq!(parse_err(r#""\u12""#).0, 1);
    // positions count characters, not bytes
    assert_eq!(parse_err("'héé' + #").0, 8);
    // a literal regex is checked at parse time, pointing at the pattern
    let (pos, msg) = parse_err(r#"String.replace(user.login, "(unclosed", "x")"#);
    assert_eq!(pos, 27);
    assert!(msg.starts_with("invalid regular expression \"(unclosed\""), "{msg}");
}

#[test]
fn depth_and_length_limits() {
    let nested = |n: usize| format!("{}user.login{}", "(".repeat(n), ")".repeat(n));
    assert!(Expression::parse(&nested(MAX_DEPTH)).is_ok());
    assert_eq!(parse_err(&nested(MAX_DEPTH + 1)), (MAX_DEPTH, format!("expression is nested more than {MAX_DEPTH} levels deep")));
    let calls = format!("{}x{}", "String.trim(".repeat(MAX_DEPTH + 1), ")".repeat(MAX_DEPTH + 1));
    assert_eq!(parse_err(&calls).0, 11 + 12 * MAX_DEPTH);
    assert_eq!(parse_err(&"!".repeat(MAX_DEPTH + 1)).0, MAX_DEPTH);
    let chained = std::iter::repeat_n("a", MAX_DEPTH + 3).collect::<Vec<_>>().join(" == ");
    assert!(Expression::parse(&chained).is_err());
    let ternaries = format!("{}x", "a ? b : ".repeat(MAX_DEPTH + 1));
    assert!(Expression::parse(&ternaries).is_err());
    // long flat chains are fine: they do not nest
    let flat = std::iter::repeat_n("a", 800).collect::<Vec<_>>().join("+");
    assert!(Expression::parse(&flat).is_ok());
    let long = format!("'{}'", "x".repeat(MAX_SOURCE_CHARS));
    assert_eq!(parse_err(&long), (MAX_SOURCE_CHARS, format!("expression is longer than {MAX_SOURCE_CHARS} characters")));
    assert!(Expression::parse(&format!("'{}'", "x".repeat(MAX_SOURCE_CHARS - 2))).is_ok());
}

#[test]
fn evaluation_errors_not_panics() {
    // a bad regex that only shows up at evaluation
    let (pos, msg) = eval_err(r#"String.replace(user.login, user.pattern, "x")"#);
    assert_eq!(pos, 27);
    assert!(msg.starts_with("invalid regular expression \"(\""), "{msg}");
    // too big a regex
    let (_, msg) = eval_err(r#"String.replace(user.login, String.join("", "\\w{1000}{1000}"), "x")"#);
    assert!(msg.starts_with("invalid regular expression"), "{msg}");
    assert_eq!(eval_err(r#"String.replace("a", "(a)", "$2")"#).0, 27);
    assert_eq!(eval_err(r#"String.replace("a", "a", "$x")"#).0, 25);
    assert_eq!(eval_err(r#"String.replace("a", "a", "${nope}")"#).0, 25);
    assert_eq!(eval_err(r#"String.replace("a", "a", "\\")"#).0, 25);
    assert_eq!(eval_err(r#"user.firstName ? 1 : 2"#), (0, "expected a boolean but found a string".to_owned()));
    assert_eq!(eval_err(r#"!user.age"#).0, 1);
    assert_eq!(eval_err(r#""g: " + user.groups"#), (8, "cannot concatenate an array".to_owned()));
    assert_eq!(eval_err("String.toLowerCase(user.address)").0, 19);
    assert_eq!(eval_err("String.substring('abc', 'x', 1)").0, 24);
    assert_eq!(eval_err("String.join(',', user.address)").0, 17);
    let e = Expression::parse("user.groups").unwrap_or_else(|e| unreachable!("{e}"));
    assert!(e.evaluate_string(&ctx()).is_err());
    let err = ExprError::new(3, "boom");
    assert_eq!(err.to_string(), "Invalid expression at position 3: boom");
}

#[test]
fn hostile_inputs_never_panic() {
    let seeds = [
        r#"String.replace(user.login, "@old\\.com$", "@new.com")"#,
        r#"isMemberOfGroupName("Contractors") ? "c" : user.department ?: 'n''o'"#,
        r#"!(a.b == "x\u00e9" || String.join(",", user.groups, 1, true, null)) && String.substring(s, 0, 9)"#,
        "((((String.len(String.trim(x)) + \"\")))) != 'q'",
    ];
    let ctx = ctx();
    for seed in seeds {
        let chars: Vec<char> = seed.chars().collect();
        for cut in 0..=chars.len() {
            for skip in 0..chars.len() {
                let text: String = chars.iter().take(cut).enumerate().filter(|(i, _)| *i != skip).map(|(_, c)| *c).collect();
                if let Ok(e) = Expression::parse(&text) {
                    let _ = e.evaluate(&ctx);
                    let _ = e.evaluate_string(&ctx);
                }
            }
        }
    }
}
