//! The Okta Expression Language subset used in profile mappings and SAML
//! settings (`idpuser.subjectNameId`, `String.substringBefore(user.email, "@")`,
//! `user.department ?: "none"`, …): a lexer, a recursive-descent parser that
//! refuses bad input with a character position, and an evaluator over any
//! [`EvalContext`]. Pure: no I/O, no panics, bounded source size, nesting depth
//! and regex size.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use regex::{Captures, Regex, RegexBuilder};
use serde_json::Value;

/// Longest accepted source, in characters.
pub const MAX_SOURCE_CHARS: usize = 4096;
/// Deepest accepted nesting (parentheses, call arguments, `!`, ternary branches, `==` chains).
pub const MAX_DEPTH: usize = 32;
/// Compiled-size cap for every regex an expression uses, in bytes.
const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// Why an expression was refused, at parse or at evaluation; `position` is a 0-based char index into the source.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Invalid expression at position {position}: {message}")]
pub struct ExprError {
    /// 0-based character (not byte) position in the source.
    pub position: usize,
    /// What is wrong, for an admin to read.
    pub message: String,
}

impl ExprError {
    fn new(position: usize, message: impl Into<String>) -> Self {
        ExprError { position, message: message.into() }
    }
}

/// What an expression can see: attribute roots (`user`, `idpuser`, `appuser`, …) and group membership.
pub trait EvalContext {
    /// The value at `root.path[0].path[1]…`, or `None` when the root or any attribute is missing.
    fn lookup(&self, root: &str, path: &[&str]) -> Option<Value>;
    /// Whether the subject is a member of the group with this name (`isMemberOfGroupName`).
    fn is_member_of_group_name(&self, _name: &str) -> bool {
        false
    }
}

/// A ready-made context: roots mapped to JSON objects, plus group names.
#[derive(Debug, Clone, Default)]
pub struct MapContext {
    /// Root name (`user`, `idpuser`, …) to its JSON value.
    pub roots: BTreeMap<String, Value>,
    /// Names of the groups the subject belongs to (matched exactly).
    pub groups: Vec<String>,
}

impl MapContext {
    /// An empty context.
    pub fn new() -> Self {
        Self::default()
    }

    /// This context with `root` bound to `value`.
    pub fn with_root(mut self, root: impl Into<String>, value: Value) -> Self {
        self.roots.insert(root.into(), value);
        self
    }

    /// This context with membership in the group `name`.
    pub fn with_group(mut self, name: impl Into<String>) -> Self {
        self.groups.push(name.into());
        self
    }
}

impl EvalContext for MapContext {
    fn lookup(&self, root: &str, path: &[&str]) -> Option<Value> {
        let mut value = self.roots.get(root)?;
        for segment in path {
            value = value.get(*segment)?;
        }
        Some(value.clone())
    }

    fn is_member_of_group_name(&self, name: &str) -> bool {
        self.groups.iter().any(|g| g == name)
    }
}

/// A parsed expression: its source and syntax tree, ready to evaluate many times.
#[derive(Debug, Clone)]
pub struct Expression {
    source: String,
    root: Expr,
}

impl Expression {
    /// Parses `src`, refusing invalid input with the 0-based char position of the problem.
    /// Regexes given as string literals are compiled (and checked) here.
    pub fn parse(src: &str) -> Result<Expression, ExprError> {
        if src.chars().count() > MAX_SOURCE_CHARS {
            return Err(ExprError::new(
                MAX_SOURCE_CHARS,
                format!("expression is longer than {MAX_SOURCE_CHARS} characters"),
            ));
        }
        let (tokens, end) = lex(src)?;
        let mut parser = Parser { tokens: &tokens, next: 0, end, depth: 0 };
        let root = parser.expr()?;
        if let Some(t) = parser.peek() {
            return Err(ExprError::new(
                t.pos,
                format!("unexpected {} after the end of the expression", t.tok.describe()),
            ));
        }
        Ok(Expression { source: src.to_owned(), root })
    }

    /// The text this expression was parsed from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The variable roots the expression reads (e.g. `["idpuser"]`), sorted and without duplicates.
    pub fn roots(&self) -> Vec<String> {
        let mut roots = BTreeSet::new();
        self.root.collect_roots(&mut roots);
        roots.into_iter().map(str::to_owned).collect()
    }

    /// Evaluates against `ctx`; missing attributes are `null`.
    pub fn evaluate(&self, ctx: &dyn EvalContext) -> Result<Value, ExprError> {
        self.root.eval(ctx)
    }

    /// Evaluates to text: `null` is `None`, numbers and booleans are stringified, arrays and objects are errors.
    pub fn evaluate_string(&self, ctx: &dyn EvalContext) -> Result<Option<String>, ExprError> {
        let value = self.evaluate(ctx)?;
        match value {
            Value::Null => Ok(None),
            Value::String(s) => Ok(Some(s)),
            other => match scalar_text(&other) {
                Some(text) => Ok(Some(text.into_owned())),
                None => Err(ExprError::new(
                    self.root.pos,
                    format!("expected the expression to produce a string, but it produced {}", kind(&other)),
                )),
            },
        }
    }
}

impl fmt::Display for Expression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

impl std::str::FromStr for Expression {
    type Err = ExprError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Expression::parse(s)
    }
}

// ---------------------------------------------------------------- lexer

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Int(i64),
    Plus,
    EqEq,
    NotEq,
    Bang,
    AndAnd,
    OrOr,
    LParen,
    RParen,
    Question,
    Elvis,
    Colon,
    Comma,
    Dot,
}

impl Tok {
    fn describe(&self) -> String {
        let sym = match self {
            Tok::Ident(name) => return format!("'{name}'"),
            Tok::Str(_) => return "string literal".to_owned(),
            Tok::Int(n) => return format!("number {n}"),
            Tok::Plus => "+",
            Tok::EqEq => "==",
            Tok::NotEq => "!=",
            Tok::Bang => "!",
            Tok::AndAnd => "&&",
            Tok::OrOr => "||",
            Tok::LParen => "(",
            Tok::RParen => ")",
            Tok::Question => "?",
            Tok::Elvis => "?:",
            Tok::Colon => ":",
            Tok::Comma => ",",
            Tok::Dot => ".",
        };
        format!("'{sym}'")
    }
}

#[derive(Debug)]
struct Token {
    tok: Tok,
    pos: usize,
}

fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || c == '$'
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '$'
}

/// Splits `src` into tokens; returns them with the end-of-input position.
fn lex(src: &str) -> Result<(Vec<Token>, usize), ExprError> {
    let chars: Vec<char> = src.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        let pos = i;
        let next = chars.get(i + 1).copied();
        let (tok, len) = match (c, next) {
            (c, _) if c.is_whitespace() => {
                i += 1;
                continue;
            }
            ('+', _) => (Tok::Plus, 1),
            ('=', Some('=')) => (Tok::EqEq, 2),
            ('!', Some('=')) => (Tok::NotEq, 2),
            ('!', _) => (Tok::Bang, 1),
            ('&', Some('&')) => (Tok::AndAnd, 2),
            ('|', Some('|')) => (Tok::OrOr, 2),
            ('?', Some(':')) => (Tok::Elvis, 2),
            ('?', _) => (Tok::Question, 1),
            (':', _) => (Tok::Colon, 1),
            ('(', _) => (Tok::LParen, 1),
            (')', _) => (Tok::RParen, 1),
            (',', _) => (Tok::Comma, 1),
            ('.', _) => (Tok::Dot, 1),
            ('\'' | '"', _) => {
                let (text, end) = lex_string(&chars, pos)?;
                tokens.push(Token { tok: Tok::Str(text), pos });
                i = end;
                continue;
            }
            (c, _) if c.is_ascii_digit() => {
                let mut end = i;
                while chars.get(end).is_some_and(char::is_ascii_digit) {
                    end += 1;
                }
                if chars.get(end).copied().is_some_and(is_ident_char) {
                    return Err(ExprError::new(pos, "malformed number"));
                }
                let digits: String = chars.get(i..end).unwrap_or_default().iter().collect();
                let n = digits
                    .parse::<i64>()
                    .map_err(|_| ExprError::new(pos, format!("number {digits} is too large")))?;
                (Tok::Int(n), end - i)
            }
            (c, _) if is_ident_start(c) => {
                let mut end = i;
                while chars.get(end).copied().is_some_and(is_ident_char) {
                    end += 1;
                }
                let name: String = chars.get(i..end).unwrap_or_default().iter().collect();
                (Tok::Ident(name), end - i)
            }
            ('=' | '&' | '|', _) => {
                return Err(ExprError::new(pos, format!("unexpected character '{c}' (did you mean '{c}{c}'?)")));
            }
            (c, _) => return Err(ExprError::new(pos, format!("unexpected character '{c}'"))),
        };
        tokens.push(Token { tok, pos });
        i += len;
    }
    Ok((tokens, chars.len()))
}

/// Reads a quoted string starting at `start`; returns its value and the index after the closing quote.
/// Escapes: `\n \t \r \0 \\ \' \"`, `\uXXXX`; any other `\x` keeps the backslash (so regexes read
/// naturally). A doubled quote inside the string stands for one quote, as in SpEL.
fn lex_string(chars: &[char], start: usize) -> Result<(String, usize), ExprError> {
    let quote = chars.get(start).copied().unwrap_or('"');
    let mut out = String::new();
    let mut i = start + 1;
    loop {
        let Some(&c) = chars.get(i) else {
            return Err(ExprError::new(start, "unterminated string literal"));
        };
        if c == quote {
            if chars.get(i + 1) == Some(&quote) {
                out.push(quote);
                i += 2;
                continue;
            }
            return Ok((out, i + 1));
        }
        if c != '\\' {
            out.push(c);
            i += 1;
            continue;
        }
        let Some(&e) = chars.get(i + 1) else {
            return Err(ExprError::new(start, "unterminated string literal"));
        };
        match e {
            'n' => out.push('\n'),
            't' => out.push('\t'),
            'r' => out.push('\r'),
            '0' => out.push('\0'),
            '\\' | '\'' | '"' => out.push(e),
            'u' => {
                let hex: String = chars.get(i + 2..i + 6).unwrap_or_default().iter().collect();
                let decoded = u32::from_str_radix(&hex, 16).ok().filter(|_| hex.len() == 4).and_then(char::from_u32);
                let Some(ch) = decoded else {
                    return Err(ExprError::new(i, "invalid \\u escape: expected four hex digits"));
                };
                out.push(ch);
                i += 6;
                continue;
            }
            other => {
                out.push('\\');
                out.push(other);
            }
        }
        i += 2;
    }
}

// ---------------------------------------------------------------- syntax tree and parser

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Func {
    SubstringBefore,
    SubstringAfter,
    ToLowerCase,
    ToUpperCase,
    Replace,
    ReplaceFirst,
    StringContains,
    StartsWith,
    Join,
    Len,
    Substring,
    Trim,
    ArraysContains,
    IsMemberOfGroupName,
}

/// Function name, function, minimum and maximum arity (`None` = variadic).
const FUNCTIONS: &[(&str, Func, usize, Option<usize>)] = &[
    ("String.substringBefore", Func::SubstringBefore, 2, Some(2)),
    ("String.substringAfter", Func::SubstringAfter, 2, Some(2)),
    ("String.toLowerCase", Func::ToLowerCase, 1, Some(1)),
    ("String.toUpperCase", Func::ToUpperCase, 1, Some(1)),
    ("String.replace", Func::Replace, 3, Some(3)),
    ("String.replaceFirst", Func::ReplaceFirst, 3, Some(3)),
    ("String.stringContains", Func::StringContains, 2, Some(2)),
    ("String.startsWith", Func::StartsWith, 2, Some(2)),
    ("String.join", Func::Join, 1, None),
    ("String.len", Func::Len, 1, Some(1)),
    ("String.substring", Func::Substring, 3, Some(3)),
    ("String.trim", Func::Trim, 1, Some(1)),
    ("Arrays.contains", Func::ArraysContains, 2, Some(2)),
    ("isMemberOfGroupName", Func::IsMemberOfGroupName, 1, Some(1)),
];

#[derive(Debug, Clone)]
enum Node {
    Lit(Value),
    Var { root: String, path: Vec<String> },
    Not(Box<Expr>),
    And(Vec<Expr>),
    Or(Vec<Expr>),
    /// `a == b` (or `a != b` when the flag is set).
    Eq(Box<Expr>, Box<Expr>, bool),
    Concat(Vec<Expr>),
    Ternary(Box<Expr>, Box<Expr>, Box<Expr>),
    Elvis(Box<Expr>, Box<Expr>),
    /// A call; `regex` is the pattern compiled at parse time when it was a literal.
    Call { name: &'static str, func: Func, args: Vec<Expr>, regex: Option<Regex> },
}

#[derive(Debug, Clone)]
struct Expr {
    node: Node,
    pos: usize,
}

struct Parser<'t> {
    tokens: &'t [Token],
    next: usize,
    end: usize,
    depth: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.next)
    }

    fn peek_is(&self, tok: &Tok) -> bool {
        self.peek().is_some_and(|t| &t.tok == tok)
    }

    fn bump(&mut self) -> Option<&Token> {
        let t = self.tokens.get(self.next);
        self.next += 1;
        t
    }

    fn here(&self) -> usize {
        self.peek().map_or(self.end, |t| t.pos)
    }

    fn expect(&mut self, tok: &Tok, what: &str) -> Result<(), ExprError> {
        if self.peek_is(tok) {
            self.next += 1;
            return Ok(());
        }
        let found = self.peek().map_or_else(|| "the end of the expression".to_owned(), |t| t.tok.describe());
        Err(ExprError::new(self.here(), format!("expected {what} but found {found}")))
    }

    /// Enters one nesting level opened at `pos`, refusing to go past [`MAX_DEPTH`].
    fn enter(&mut self, pos: usize) -> Result<(), ExprError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(ExprError::new(pos, format!("expression is nested more than {MAX_DEPTH} levels deep")));
        }
        Ok(())
    }

    /// Nested sub-expression (parenthesised, argument, branch): one level deeper.
    fn nested(&mut self, pos: usize) -> Result<Expr, ExprError> {
        self.enter(pos)?;
        let e = self.expr()?;
        self.depth -= 1;
        Ok(e)
    }

    /// `or ( '?' expr ':' expr | '?:' expr )?` — the lowest precedence, right-associative.
    fn expr(&mut self) -> Result<Expr, ExprError> {
        let cond = self.or()?;
        let Some(t) = self.peek() else { return Ok(cond) };
        let op_pos = t.pos;
        let pos = cond.pos;
        match t.tok {
            Tok::Question => {
                self.next += 1;
                let yes = self.nested(op_pos)?;
                self.expect(&Tok::Colon, "':' of the conditional")?;
                let no = self.nested(op_pos)?;
                Ok(Expr { node: Node::Ternary(Box::new(cond), Box::new(yes), Box::new(no)), pos })
            }
            Tok::Elvis => {
                self.next += 1;
                let fallback = self.nested(op_pos)?;
                Ok(Expr { node: Node::Elvis(Box::new(cond), Box::new(fallback)), pos })
            }
            _ => Ok(cond),
        }
    }

    /// One or more operands joined by `op`, built into an n-ary node (no extra depth).
    fn chain(
        &mut self,
        op: &Tok,
        operand: fn(&mut Self) -> Result<Expr, ExprError>,
        build: fn(Vec<Expr>) -> Node,
    ) -> Result<Expr, ExprError> {
        let first = operand(self)?;
        if !self.peek_is(op) {
            return Ok(first);
        }
        let pos = first.pos;
        let mut items = vec![first];
        while self.peek_is(op) {
            self.next += 1;
            items.push(operand(self)?);
        }
        Ok(Expr { node: build(items), pos })
    }

    fn or(&mut self) -> Result<Expr, ExprError> {
        self.chain(&Tok::OrOr, Self::and, Node::Or)
    }

    fn and(&mut self) -> Result<Expr, ExprError> {
        self.chain(&Tok::AndAnd, Self::equality, Node::And)
    }

    fn equality(&mut self) -> Result<Expr, ExprError> {
        let mut left = self.concat()?;
        let entered = self.depth;
        while let Some(t) = self.peek() {
            let negate = match t.tok {
                Tok::EqEq => false,
                Tok::NotEq => true,
                _ => break,
            };
            let op_pos = t.pos;
            self.next += 1;
            if !matches!(left.node, Node::Eq(..)) {
                // the first comparison is flat; each further one nests the previous
            } else {
                self.enter(op_pos)?;
            }
            let right = self.concat()?;
            let pos = left.pos;
            left = Expr { node: Node::Eq(Box::new(left), Box::new(right), negate), pos };
        }
        self.depth = entered;
        Ok(left)
    }

    fn concat(&mut self) -> Result<Expr, ExprError> {
        self.chain(&Tok::Plus, Self::unary, Node::Concat)
    }

    fn unary(&mut self) -> Result<Expr, ExprError> {
        if let Some(t) = self.peek().filter(|t| t.tok == Tok::Bang) {
            let pos = t.pos;
            self.next += 1;
            self.enter(pos)?;
            let inner = self.unary()?;
            self.depth -= 1;
            return Ok(Expr { node: Node::Not(Box::new(inner)), pos });
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Expr, ExprError> {
        let end = self.end;
        let Some(t) = self.bump() else {
            return Err(ExprError::new(end, "expected an expression but found the end of the expression"));
        };
        let pos = t.pos;
        let node = match &t.tok {
            Tok::Str(s) => Node::Lit(Value::String(s.clone())),
            Tok::Int(n) => Node::Lit(Value::from(*n)),
            Tok::LParen => {
                let inner = self.nested(pos)?;
                self.expect(&Tok::RParen, "')'")?;
                return Ok(inner);
            }
            Tok::Ident(name) => match name.as_str() {
                "true" => Node::Lit(Value::Bool(true)),
                "false" => Node::Lit(Value::Bool(false)),
                "null" => Node::Lit(Value::Null),
                _ => return self.name_or_call(name.clone(), pos),
            },
            other => {
                return Err(ExprError::new(pos, format!("expected an expression but found {}", other.describe())));
            }
        };
        Ok(Expr { node, pos })
    }

    /// After the first identifier: a dotted variable path, or a function call if `(` follows.
    fn name_or_call(&mut self, first: String, pos: usize) -> Result<Expr, ExprError> {
        let mut segments = vec![first];
        while self.peek_is(&Tok::Dot) {
            self.next += 1;
            let here = self.here();
            match self.bump().map(|t| &t.tok) {
                Some(Tok::Ident(seg)) => segments.push(seg.clone()),
                _ => return Err(ExprError::new(here, "expected an attribute name after '.'")),
            }
        }
        if !self.peek_is(&Tok::LParen) {
            let mut segments = segments.into_iter();
            let root = segments.next().unwrap_or_default();
            return Ok(Expr { node: Node::Var { root, path: segments.collect() }, pos });
        }
        let full = segments.join(".");
        let Some(&(name, func, min, max)) = FUNCTIONS.iter().find(|f| f.0 == full) else {
            return Err(ExprError::new(pos, format!("unknown function '{full}'")));
        };
        let paren = self.here();
        self.next += 1;
        let mut args = Vec::new();
        if self.peek_is(&Tok::RParen) {
            self.next += 1;
        } else {
            loop {
                args.push(self.nested(paren)?);
                let here = self.here();
                match self.bump().map(|t| &t.tok) {
                    Some(Tok::Comma) => continue,
                    Some(Tok::RParen) => break,
                    _ => return Err(ExprError::new(here, format!("expected ',' or ')' in the arguments of {name}"))),
                }
            }
        }
        if args.len() < min || max.is_some_and(|m| args.len() > m) {
            let wanted = match max {
                Some(m) if m == min => format!("{min}"),
                _ => format!("at least {min}"),
            };
            let noun = if min == 1 && max == Some(1) { "argument" } else { "arguments" };
            return Err(ExprError::new(pos, format!("{name} expects {wanted} {noun} but got {}", args.len())));
        }
        let regex = match (func, args.get(1)) {
            (Func::Replace | Func::ReplaceFirst, Some(Expr { node: Node::Lit(Value::String(p)), pos })) => {
                Some(compile_regex(p, *pos)?)
            }
            _ => None,
        };
        Ok(Expr { node: Node::Call { name, func, args, regex }, pos })
    }
}

// ---------------------------------------------------------------- evaluation

impl Expr {
    fn collect_roots<'a>(&'a self, out: &mut BTreeSet<&'a str>) {
        match &self.node {
            Node::Lit(_) => {}
            Node::Var { root, .. } => {
                out.insert(root);
            }
            Node::Not(a) => a.collect_roots(out),
            Node::Eq(a, b, _) | Node::Elvis(a, b) => {
                a.collect_roots(out);
                b.collect_roots(out);
            }
            Node::Ternary(a, b, c) => {
                a.collect_roots(out);
                b.collect_roots(out);
                c.collect_roots(out);
            }
            Node::And(items) | Node::Or(items) | Node::Concat(items) | Node::Call { args: items, .. } => {
                items.iter().for_each(|e| e.collect_roots(out));
            }
        }
    }

    fn eval(&self, ctx: &dyn EvalContext) -> Result<Value, ExprError> {
        match &self.node {
            Node::Lit(v) => Ok(v.clone()),
            Node::Var { root, path } => {
                let path: Vec<&str> = path.iter().map(String::as_str).collect();
                Ok(ctx.lookup(root, &path).unwrap_or(Value::Null))
            }
            Node::Not(a) => Ok(Value::Bool(!a.eval_bool(ctx)?)),
            Node::And(items) => {
                for e in items {
                    if !e.eval_bool(ctx)? {
                        return Ok(Value::Bool(false));
                    }
                }
                Ok(Value::Bool(true))
            }
            Node::Or(items) => {
                for e in items {
                    if e.eval_bool(ctx)? {
                        return Ok(Value::Bool(true));
                    }
                }
                Ok(Value::Bool(false))
            }
            Node::Eq(a, b, negate) => Ok(Value::Bool(values_equal(&a.eval(ctx)?, &b.eval(ctx)?) != *negate)),
            Node::Concat(items) => {
                let mut out = String::new();
                for e in items {
                    let v = e.eval(ctx)?;
                    if v.is_null() {
                        continue;
                    }
                    match scalar_text(&v) {
                        Some(text) => out.push_str(&text),
                        None => return Err(ExprError::new(e.pos, format!("cannot concatenate {}", kind(&v)))),
                    }
                }
                Ok(Value::String(out))
            }
            Node::Ternary(cond, yes, no) => {
                if cond.eval_bool(ctx)? {
                    yes.eval(ctx)
                } else {
                    no.eval(ctx)
                }
            }
            Node::Elvis(a, fallback) => {
                let v = a.eval(ctx)?;
                let empty = match &v {
                    Value::Null => true,
                    Value::String(s) => s.is_empty(),
                    Value::Array(items) => items.is_empty(),
                    _ => false,
                };
                if empty {
                    fallback.eval(ctx)
                } else {
                    Ok(v)
                }
            }
            Node::Call { name, func, args, regex } => call(name, *func, args, regex.as_ref(), ctx),
        }
    }

    /// Evaluates as a condition: booleans, `null` (false), and the strings "true"/"false".
    fn eval_bool(&self, ctx: &dyn EvalContext) -> Result<bool, ExprError> {
        match self.eval(ctx)? {
            Value::Bool(b) => Ok(b),
            Value::Null => Ok(false),
            Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(true),
            Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(false),
            other => Err(ExprError::new(self.pos, format!("expected a boolean but found {}", kind(&other)))),
        }
    }

    /// Evaluates an argument that should be text: `null` is `None`, numbers and booleans are stringified.
    fn eval_text(&self, ctx: &dyn EvalContext, name: &str) -> Result<Option<String>, ExprError> {
        let v = self.eval(ctx)?;
        match v {
            Value::Null => Ok(None),
            Value::String(s) => Ok(Some(s)),
            other => match scalar_text(&other) {
                Some(text) => Ok(Some(text.into_owned())),
                None => Err(ExprError::new(self.pos, format!("{name} expects a string but found {}", kind(&other)))),
            },
        }
    }

    /// Evaluates an argument that should be an integer (a number or a numeric string).
    fn eval_int(&self, ctx: &dyn EvalContext, name: &str) -> Result<i64, ExprError> {
        let v = self.eval(ctx)?;
        let n = match &v {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        };
        n.ok_or_else(|| ExprError::new(self.pos, format!("{name} expects an integer but found {}", kind(&v))))
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The text of a string, number or boolean; `None` for null, arrays and objects.
fn scalar_text(v: &Value) -> Option<Cow<'_, str>> {
    match v {
        Value::String(s) => Some(Cow::Borrowed(s)),
        Value::Number(n) => Some(Cow::Owned(n.to_string())),
        Value::Bool(b) => Some(Cow::Borrowed(if *b { "true" } else { "false" })),
        _ => None,
    }
}

/// JSON equality, except that numbers compare by value (`1 == 1.0`).
fn values_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(x), Some(y)) => x == y,
            _ => x.as_f64() == y.as_f64(),
        },
        _ => a == b,
    }
}

fn compile_regex(pattern: &str, pos: usize) -> Result<Regex, ExprError> {
    RegexBuilder::new(pattern)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|e| {
            let text = e.to_string();
            let reason = text.lines().rev().map(str::trim).find(|l| !l.is_empty()).unwrap_or("invalid");
            let reason = reason.strip_prefix("error: ").unwrap_or(reason);
            ExprError::new(pos, format!("invalid regular expression {pattern:?}: {reason}"))
        })
}

fn call(
    name: &str,
    func: Func,
    args: &[Expr],
    regex: Option<&Regex>,
    ctx: &dyn EvalContext,
) -> Result<Value, ExprError> {
    let text = |i: usize| -> Result<Option<String>, ExprError> {
        match args.get(i) {
            Some(e) => e.eval_text(ctx, name),
            None => Ok(None),
        }
    };
    let opt_string = |s: Option<String>| s.map_or(Value::Null, Value::String);
    Ok(match func {
        // StringUtils semantics: separator missing from s => all of s before, nothing after.
        Func::SubstringBefore => {
            let (s, sep) = (text(0)?, text(1)?);
            opt_string(s.map(|s| match sep {
                Some(sep) => s.find(&sep).map_or(s.as_str(), |i| s.get(..i).unwrap_or("")).to_owned(),
                None => s,
            }))
        }
        Func::SubstringAfter => {
            let (s, sep) = (text(0)?, text(1)?);
            opt_string(s.map(|s| match sep {
                Some(sep) => s.find(&sep).and_then(|i| s.get(i + sep.len()..)).unwrap_or("").to_owned(),
                None => String::new(),
            }))
        }
        Func::ToLowerCase => opt_string(text(0)?.map(|s| s.to_lowercase())),
        Func::ToUpperCase => opt_string(text(0)?.map(|s| s.to_uppercase())),
        Func::Trim => opt_string(text(0)?.map(|s| s.trim().to_owned())),
        Func::Len => Value::from(text(0)?.map_or(0, |s| s.chars().count())),
        Func::StringContains => Value::Bool(matches!((text(0)?, text(1)?), (Some(s), Some(sub)) if s.contains(&sub))),
        Func::StartsWith => Value::Bool(matches!((text(0)?, text(1)?), (Some(s), Some(p)) if s.starts_with(&p))),
        Func::Substring => {
            let s = text(0)?;
            let (start, end) = match (args.get(1), args.get(2)) {
                (Some(a), Some(b)) => (a.eval_int(ctx, name)?, b.eval_int(ctx, name)?),
                _ => (0, 0),
            };
            opt_string(s.map(|s| {
                let len = s.chars().count();
                let clamp = |n: i64| usize::try_from(n.max(0)).unwrap_or(usize::MAX).min(len);
                let (start, end) = (clamp(start), clamp(end));
                s.chars().skip(start).take(end.saturating_sub(start)).collect()
            }))
        }
        Func::Replace | Func::ReplaceFirst => {
            let s = text(0)?;
            let compiled;
            let re = match regex {
                Some(re) => Some(re),
                None => match (text(1)?, args.get(1)) {
                    (Some(p), Some(arg)) => {
                        compiled = compile_regex(&p, arg.pos)?;
                        Some(&compiled)
                    }
                    _ => None,
                },
            };
            let replacement = text(2)?.unwrap_or_default();
            match (s, re) {
                (None, _) => Value::Null,
                (Some(s), None) => Value::String(s),
                (Some(s), Some(re)) => {
                    let pos = args.get(2).map_or(0, |e| e.pos);
                    let template = parse_replacement(&replacement, re, pos)?;
                    Value::String(replace(re, &s, &template, func == Func::Replace))
                }
            }
        }
        Func::Join => {
            let sep = text(0)?.unwrap_or_default();
            let mut parts: Vec<String> = Vec::new();
            for e in args.iter().skip(1) {
                let v = e.eval(ctx)?;
                let items = match &v {
                    Value::Array(items) => items.as_slice(),
                    single => std::slice::from_ref(single),
                };
                for item in items.iter().filter(|i| !i.is_null()) {
                    match scalar_text(item) {
                        Some(t) => parts.push(t.into_owned()),
                        None => return Err(ExprError::new(e.pos, format!("{name} cannot join {}", kind(item)))),
                    }
                }
            }
            Value::String(parts.join(&sep))
        }
        Func::ArraysContains => {
            let (haystack, needle) = match (args.first(), args.get(1)) {
                (Some(a), Some(b)) => (a.eval(ctx)?, b.eval(ctx)?),
                _ => (Value::Null, Value::Null),
            };
            Value::Bool(match &haystack {
                Value::Null => false,
                Value::Array(items) => items.iter().any(|i| values_equal(i, &needle)),
                single => values_equal(single, &needle),
            })
        }
        Func::IsMemberOfGroupName => Value::Bool(text(0)?.is_some_and(|g| ctx.is_member_of_group_name(&g))),
    })
}

/// One piece of a Java-style replacement string.
enum Piece {
    Text(String),
    Group(usize),
    Named(String),
}

/// Parses a Java `Matcher.replaceAll` replacement: `$n` (greedy over digits while the group
/// exists), `${name}`, `\x` for a literal `x`; anything else after `$` is an error.
fn parse_replacement(repl: &str, re: &Regex, pos: usize) -> Result<Vec<Piece>, ExprError> {
    let groups = re.captures_len();
    let mut pieces = Vec::new();
    let mut text = String::new();
    let mut chars = repl.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(e) => text.push(e),
                None => return Err(ExprError::new(pos, "replacement ends with a lone '\\'")),
            },
            '$' => {
                let piece = match chars.next() {
                    Some('{') => {
                        let name: String = chars.by_ref().take_while(|&c| c != '}').collect();
                        if !re.capture_names().any(|n| n == Some(name.as_str())) {
                            return Err(ExprError::new(pos, format!("replacement refers to unknown group '{name}'")));
                        }
                        Piece::Named(name)
                    }
                    Some(d) if d.is_ascii_digit() => {
                        let mut n = d.to_digit(10).map_or(0, |d| d as usize);
                        if n >= groups {
                            return Err(ExprError::new(pos, format!("replacement refers to group {n}, which does not exist")));
                        }
                        while let Some(next) = chars.peek().and_then(|c| c.to_digit(10)) {
                            let longer = n * 10 + next as usize;
                            if longer >= groups {
                                break;
                            }
                            n = longer;
                            chars.next();
                        }
                        Piece::Group(n)
                    }
                    _ => return Err(ExprError::new(pos, "'$' in a replacement must be followed by a group number or {name}")),
                };
                if !text.is_empty() {
                    pieces.push(Piece::Text(std::mem::take(&mut text)));
                }
                pieces.push(piece);
            }
            c => text.push(c),
        }
    }
    if !text.is_empty() {
        pieces.push(Piece::Text(text));
    }
    Ok(pieces)
}

fn expand(caps: &Captures<'_>, template: &[Piece], out: &mut String) {
    for piece in template {
        match piece {
            Piece::Text(t) => out.push_str(t),
            Piece::Group(n) => out.push_str(caps.get(*n).map_or("", |m| m.as_str())),
            Piece::Named(n) => out.push_str(caps.name(n).map_or("", |m| m.as_str())),
        }
    }
}

fn replace(re: &Regex, s: &str, template: &[Piece], all: bool) -> String {
    let mut out = String::with_capacity(s.len());
    let mut last = 0;
    for caps in re.captures_iter(s) {
        let Some(m) = caps.get(0) else { continue };
        out.push_str(s.get(last..m.start()).unwrap_or(""));
        expand(&caps, template, &mut out);
        last = m.end();
        if !all {
            break;
        }
    }
    out.push_str(s.get(last..).unwrap_or(""));
    out
}
