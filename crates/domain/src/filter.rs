//! Okta's SCIM-like `filter` and `search` expressions (`status eq "ACTIVE" and
//! profile.lastName sw "Le"`): a tokenizer and recursive-descent parser with error
//! positions, and validation of what each listing context allows (okta-wire.md §3).
//! Turning an expression into SQL is the store's job (`idhub_store::sqlfilter`).

use chrono::DateTime;

/// Longest expression accepted.
pub const MAX_LEN: usize = 4096;
/// Deepest nesting of parentheses / `not` accepted.
pub const MAX_DEPTH: usize = 32;

/// A literal value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Str(String),
    Num(f64),
    Bool(bool),
    Null,
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

impl Op {
    fn parse(word: &str) -> Option<Op> {
        Some(match word.to_ascii_lowercase().as_str() {
            "eq" => Op::Eq,
            "ne" => Op::Ne,
            "co" => Op::Co,
            "sw" => Op::Sw,
            "ew" => Op::Ew,
            "gt" => Op::Gt,
            "ge" => Op::Ge,
            "lt" => Op::Lt,
            "le" => Op::Le,
            _ => return None,
        })
    }

    /// The operator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Eq => "eq",
            Op::Ne => "ne",
            Op::Co => "co",
            Op::Sw => "sw",
            Op::Ew => "ew",
            Op::Gt => "gt",
            Op::Ge => "ge",
            Op::Lt => "lt",
            Op::Le => "le",
        }
    }
}

/// A parsed expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Cmp { attr: String, op: Op, value: Value },
    Present { attr: String },
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
}

/// A refused expression, with the 0-based character position of the problem.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("Invalid search criteria at position {position}: {message}")]
pub struct FilterError {
    pub position: usize,
    pub message: String,
}

fn fail<T>(position: usize, message: impl Into<String>) -> Result<T, FilterError> {
    Err(FilterError { position, message: message.into() })
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Str(String),
    Num(f64),
    LParen,
    RParen,
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    pos: usize,
}

fn lex(input: &str) -> Result<Vec<Token>, FilterError> {
    let chars: Vec<char> = input.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '(' {
            out.push(Token { tok: Tok::LParen, pos: i });
            i += 1;
        } else if c == ')' {
            out.push(Token { tok: Tok::RParen, pos: i });
            i += 1;
        } else if c == '"' {
            let start = i;
            i += 1;
            let mut s = String::new();
            loop {
                let Some(&ch) = chars.get(i) else {
                    return fail(start, "unterminated string");
                };
                i += 1;
                match ch {
                    '"' => break,
                    '\\' => {
                        let Some(&esc) = chars.get(i) else {
                            return fail(i, "unterminated escape");
                        };
                        i += 1;
                        match esc {
                            '"' => s.push('"'),
                            '\\' => s.push('\\'),
                            '/' => s.push('/'),
                            'n' => s.push('\n'),
                            't' => s.push('\t'),
                            'r' => s.push('\r'),
                            'u' => {
                                let hex: String = chars.get(i..i + 4).map(|h| h.iter().collect()).unwrap_or_default();
                                let code = u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32);
                                let Some(ch) = code.filter(|_| hex.len() == 4) else {
                                    return fail(i - 2, "invalid \\u escape");
                                };
                                s.push(ch);
                                i += 4;
                            }
                            other => return fail(i - 2, format!("unknown escape \\{other}")),
                        }
                    }
                    other => s.push(other),
                }
            }
            out.push(Token { tok: Tok::Str(s), pos: start });
        } else if c.is_ascii_digit() || (c == '-' && chars.get(i + 1).map(|d| d.is_ascii_digit()).unwrap_or(false)) {
            let start = i;
            i += 1;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            let text: String = chars[start..i].iter().collect();
            let Ok(n) = text.parse::<f64>() else {
                return fail(start, format!("invalid number {text}"));
            };
            out.push(Token { tok: Tok::Num(n), pos: start });
        } else if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_' || chars[i] == '.' || chars[i] == '$') {
                i += 1;
            }
            out.push(Token { tok: Tok::Word(chars[start..i].iter().collect()), pos: start });
        } else {
            return fail(i, format!("unexpected character '{c}'"));
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<Token>,
    i: usize,
    end: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.toks.get(self.i)
    }
    fn pos(&self) -> usize {
        self.peek().map(|t| t.pos).unwrap_or(self.end)
    }
    fn keyword(&self, kw: &str) -> bool {
        matches!(self.peek(), Some(Token { tok: Tok::Word(w), .. }) if w.eq_ignore_ascii_case(kw))
    }

    fn or(&mut self, depth: usize) -> Result<Expr, FilterError> {
        let mut left = self.and(depth)?;
        while self.keyword("or") {
            self.i += 1;
            let right = self.and(depth)?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self, depth: usize) -> Result<Expr, FilterError> {
        let mut left = self.unary(depth)?;
        while self.keyword("and") {
            self.i += 1;
            let right = self.unary(depth)?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self, depth: usize) -> Result<Expr, FilterError> {
        if depth >= MAX_DEPTH {
            return fail(self.pos(), format!("nested deeper than {MAX_DEPTH} levels"));
        }
        if self.keyword("not") {
            self.i += 1;
            return Ok(Expr::Not(Box::new(self.unary(depth + 1)?)));
        }
        match self.peek().cloned() {
            Some(Token { tok: Tok::LParen, pos }) => {
                self.i += 1;
                let inner = self.or(depth + 1)?;
                match self.peek() {
                    Some(Token { tok: Tok::RParen, .. }) => {
                        self.i += 1;
                        Ok(inner)
                    }
                    _ => fail(self.pos().max(pos), "missing closing parenthesis"),
                }
            }
            Some(Token { tok: Tok::Word(attr), pos }) => {
                if ["and", "or", "not"].iter().any(|k| attr.eq_ignore_ascii_case(k)) || Op::parse(&attr).is_some() {
                    return fail(pos, format!("expected an attribute, found '{attr}'"));
                }
                if !valid_attr(&attr) {
                    return fail(pos, format!("invalid attribute name '{attr}'"));
                }
                self.i += 1;
                let (op_word, op_pos) = match self.peek() {
                    Some(Token { tok: Tok::Word(w), pos }) => (w.clone(), *pos),
                    _ => return fail(self.pos(), format!("expected an operator after '{attr}'")),
                };
                self.i += 1;
                if op_word.eq_ignore_ascii_case("pr") {
                    return Ok(Expr::Present { attr });
                }
                let op = Op::parse(&op_word).ok_or(()).or_else(|_| fail(op_pos, format!("unknown operator '{op_word}'")))?;
                let value = match self.peek().cloned() {
                    Some(Token { tok: Tok::Str(s), .. }) => Value::Str(s),
                    Some(Token { tok: Tok::Num(n), .. }) => Value::Num(n),
                    Some(Token { tok: Tok::Word(w), .. }) if w == "true" => Value::Bool(true),
                    Some(Token { tok: Tok::Word(w), .. }) if w == "false" => Value::Bool(false),
                    Some(Token { tok: Tok::Word(w), .. }) if w == "null" => Value::Null,
                    _ => return fail(self.pos(), format!("expected a value after '{}'", op.as_str())),
                };
                self.i += 1;
                Ok(Expr::Cmp { attr, op, value })
            }
            Some(Token { pos, .. }) => fail(pos, "expected an attribute or '('"),
            None => fail(self.end, "unexpected end of expression"),
        }
    }
}

fn valid_attr(a: &str) -> bool {
    !a.is_empty()
        && a.split('.').all(|seg| {
            let mut c = seg.chars();
            matches!(c.next(), Some(f) if f.is_ascii_alphabetic() || f == '_') && c.all(|x| x.is_ascii_alphanumeric() || x == '_')
        })
        && a.len() <= 128
}

/// Parse an expression.
pub fn parse(input: &str) -> Result<Expr, FilterError> {
    let len = input.chars().count();
    if len > MAX_LEN {
        return fail(MAX_LEN, format!("longer than {MAX_LEN} characters"));
    }
    let toks = lex(input)?;
    if toks.is_empty() {
        return fail(0, "empty expression");
    }
    let mut p = Parser { toks, i: 0, end: len };
    let e = p.or(0)?;
    if let Some(t) = p.peek() {
        return fail(t.pos, "unexpected text after the expression");
    }
    Ok(e)
}

/// Where an expression is used; each allows different attributes and operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    UserFilter,
    UserSearch,
    GroupFilter,
    GroupSearch,
    LogFilter,
}

const USER_FILTER_ATTRS: [&str; 7] =
    ["status", "lastUpdated", "id", "profile.login", "profile.email", "profile.firstName", "profile.lastName"];
const USER_SEARCH_ATTRS: [&str; 7] = ["id", "status", "created", "activated", "statusChanged", "lastUpdated", "type.id"];
const USER_DATES: [&str; 5] = ["created", "activated", "statusChanged", "lastUpdated", "passwordChanged"];
const GROUP_FILTER_ATTRS: [&str; 4] = ["id", "type", "lastUpdated", "lastMembershipUpdated"];
const GROUP_SEARCH_ATTRS: [&str; 7] =
    ["id", "type", "profile.name", "profile.description", "created", "lastUpdated", "lastMembershipUpdated"];
const GROUP_DATES: [&str; 3] = ["created", "lastUpdated", "lastMembershipUpdated"];
const LOG_ATTRS: [&str; 14] = [
    "eventType",
    "outcome.result",
    "actor.id",
    "actor.alternateId",
    "actor.displayName",
    "target.id",
    "target.alternateId",
    "target.type",
    "severity",
    "displayMessage",
    "client.ipAddress",
    "uuid",
    "transaction.id",
    "published",
];

fn is_date(ctx: Context, attr: &str) -> bool {
    match ctx {
        Context::UserFilter | Context::UserSearch => USER_DATES.contains(&attr),
        Context::GroupFilter | Context::GroupSearch => GROUP_DATES.contains(&attr),
        Context::LogFilter => attr == "published",
    }
}

fn check_cmp(ctx: Context, attr: &str, op: Op, value: &Value, pos: usize) -> Result<(), FilterError> {
    let allowed_attr = match ctx {
        Context::UserFilter => USER_FILTER_ATTRS.contains(&attr),
        Context::UserSearch => {
            USER_SEARCH_ATTRS.contains(&attr) || attr.strip_prefix("profile.").map(|k| !k.is_empty() && !k.contains('.')).unwrap_or(false)
        }
        Context::GroupFilter => GROUP_FILTER_ATTRS.contains(&attr),
        Context::GroupSearch => GROUP_SEARCH_ATTRS.contains(&attr),
        Context::LogFilter => LOG_ATTRS.contains(&attr),
    };
    if !allowed_attr {
        return fail(pos, format!("the attribute '{attr}' cannot be used here"));
    }
    let date = is_date(ctx, attr);
    let ordering = matches!(op, Op::Gt | Op::Ge | Op::Lt | Op::Le);
    let allowed_op = match ctx {
        Context::UserFilter | Context::GroupFilter => op == Op::Eq || (ordering && date),
        Context::UserSearch => match op {
            Op::Ne | Op::Ew => false,
            Op::Co => ["profile.login", "profile.email", "profile.firstName", "profile.lastName"].contains(&attr),
            _ => true,
        },
        Context::GroupSearch => op != Op::Ne && op != Op::Ew,
        Context::LogFilter => matches!(op, Op::Eq | Op::Co | Op::Sw | Op::Ew) || (ordering && date),
    };
    if !allowed_op {
        return fail(pos, format!("the operator '{}' cannot be used with '{attr}' here", op.as_str()));
    }
    if date {
        match value {
            Value::Str(s) if DateTime::parse_from_rfc3339(s).is_ok() => {}
            _ => return fail(pos, format!("'{attr}' needs a date such as \"2013-06-01T00:00:00.000Z\"")),
        }
    }
    Ok(())
}

/// Check an expression against what `ctx` allows. Positions in errors are 0 because
/// validation runs on the tree; the message names the attribute or operator.
pub fn validate(expr: &Expr, ctx: Context) -> Result<(), FilterError> {
    match expr {
        Expr::Cmp { attr, op, value } => check_cmp(ctx, attr, *op, value, 0),
        Expr::Present { attr } => {
            if matches!(ctx, Context::UserSearch | Context::GroupSearch) {
                check_cmp(ctx, attr, Op::Eq, &Value::Str("2000-01-01T00:00:00Z".into()), 0)
            } else {
                fail(0, "the operator 'pr' cannot be used here")
            }
        }
        Expr::And(a, b) | Expr::Or(a, b) => {
            validate(a, ctx)?;
            validate(b, ctx)
        }
        Expr::Not(a) => {
            if matches!(ctx, Context::UserSearch | Context::GroupSearch) {
                validate(a, ctx)
            } else {
                fail(0, "'not' cannot be used here")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmp(attr: &str, op: Op, v: &str) -> Expr {
        Expr::Cmp { attr: attr.into(), op, value: Value::Str(v.into()) }
    }

    #[test]
    fn parses_comparisons_and_precedence() {
        assert_eq!(parse(r#"status eq "ACTIVE""#), Ok(cmp("status", Op::Eq, "ACTIVE")));
        let e = parse(r#"a eq "1" or b eq "2" and c eq "3""#).unwrap_or(Expr::Present { attr: "x".into() });
        assert_eq!(
            e,
            Expr::Or(
                Box::new(cmp("a", Op::Eq, "1")),
                Box::new(Expr::And(Box::new(cmp("b", Op::Eq, "2")), Box::new(cmp("c", Op::Eq, "3"))))
            )
        );
        let e = parse(r#"(a eq "1" or b eq "2") AND c EQ "3""#).unwrap_or(Expr::Present { attr: "x".into() });
        assert!(matches!(e, Expr::And(_, _)));
        assert_eq!(parse("profile.title pr"), Ok(Expr::Present { attr: "profile.title".into() }));
        assert_eq!(parse(r#"not (a eq "1")"#), Ok(Expr::Not(Box::new(cmp("a", Op::Eq, "1")))));
        assert_eq!(parse("x eq 42"), Ok(Expr::Cmp { attr: "x".into(), op: Op::Eq, value: Value::Num(42.0) }));
        assert_eq!(parse("x eq true"), Ok(Expr::Cmp { attr: "x".into(), op: Op::Eq, value: Value::Bool(true) }));
        assert_eq!(parse("x eq null"), Ok(Expr::Cmp { attr: "x".into(), op: Op::Eq, value: Value::Null }));
    }

    #[test]
    fn string_escapes() {
        assert_eq!(parse(r#"a eq "q\"b\\c\u0041""#), Ok(cmp("a", Op::Eq, "q\"b\\cA")));
        assert_eq!(parse(r#"a eq "é 漢""#), Ok(cmp("a", Op::Eq, "é 漢")));
    }

    fn pos(input: &str) -> Option<usize> {
        parse(input).err().map(|e| e.position)
    }

    #[test]
    fn errors_name_their_position() {
        assert_eq!(pos(r#"status eq "ACTIVE"#), Some(10), "unterminated string");
        assert_eq!(pos(r#"status equals "A""#), Some(7), "unknown operator");
        assert_eq!(pos("status eq"), Some(9), "missing value");
        assert_eq!(pos(r#"status eq "A" "B""#), Some(14), "trailing tokens");
        assert_eq!(pos(r#"(status eq "A""#), Some(14), "unbalanced");
        assert_eq!(pos(r#"status eq "A")"#), Some(13), "unbalanced");
        assert_eq!(pos(""), Some(0));
        assert_eq!(pos("status eq \"A\" and"), Some(17));
        assert_eq!(pos("# eq 1"), Some(0));
        assert_eq!(pos(r#"a eq "\q""#), Some(6), "the backslash of the bad escape");
        let deep = format!("{}a eq \"1\"{}", "(".repeat(40), ")".repeat(40));
        assert!(parse(&deep).is_err());
        assert!(parse(&"a".repeat(MAX_LEN + 1)).is_err());
        let e = parse("status eq").err().map(|e| e.to_string()).unwrap_or_default();
        assert!(e.starts_with("Invalid search criteria at position 9"), "{e}");
    }

    fn ok(input: &str, ctx: Context) -> bool {
        parse(input).and_then(|e| validate(&e, ctx)).is_ok()
    }

    #[test]
    fn contexts_allow_what_okta_allows() {
        use Context::*;
        assert!(ok(r#"status eq "ACTIVE" or profile.login eq "a@b.c""#, UserFilter));
        assert!(ok(r#"lastUpdated gt "2013-06-01T00:00:00.000Z""#, UserFilter));
        assert!(!ok(r#"profile.title eq "x""#, UserFilter));
        assert!(!ok(r#"profile.login sw "a""#, UserFilter));
        assert!(!ok(r#"lastUpdated gt "yesterday""#, UserFilter));
        assert!(!ok("profile.login pr", UserFilter));
        assert!(ok(r#"profile.department eq "Eng" and status eq "ACTIVE""#, UserSearch));
        assert!(ok(r#"profile.email co "example""#, UserSearch));
        assert!(!ok(r#"profile.title co "x""#, UserSearch));
        assert!(!ok(r#"profile.login ne "x""#, UserSearch));
        assert!(ok("profile.title pr", UserSearch));
        assert!(ok(r#"type eq "OKTA_GROUP""#, GroupFilter));
        assert!(!ok(r#"profile.name eq "x""#, GroupFilter));
        assert!(ok(r#"profile.name sw "Contr""#, GroupSearch));
        assert!(ok(r#"eventType eq "user.session.start" and outcome.result eq "FAILURE""#, LogFilter));
        assert!(ok(r#"target.id eq "00u1""#, LogFilter));
        assert!(!ok(r#"bogus eq "x""#, LogFilter));
        assert!(!ok(r#"eventType ne "x""#, LogFilter));
    }
}
