//! The Okta Expression Language subset used in profile mappings and SAML
//! settings (`idpuser.subjectNameId`, `String.substringBefore(user.email, "@")`,
//! `user.department ?: "none"`, …): a lexer, a recursive-descent parser that
//! refuses bad input with a character position, and an evaluator over any
//! [`EvalContext`]. Pure: no I/O, no panics, bounded source size, nesting depth
//! and regex size.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use regex::{Regex, RegexBuilder};
use serde_json::Value;

/// Longest accepted source, in characters.
pub const MAX_SOURCE_CHARS: usize = 4096;
/// Deepest accepted nesting (parentheses, call arguments, `!`, ternary branches, `==` chains).
pub const MAX_DEPTH: usize = 32;
/// Compiled-size cap for every regex an expression uses, in bytes.
const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// Why an expression was refused, at parse or at evaluation.
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
        let message = message.into();
        ExprError { position, message }
    }
}

fn err<T>(position: usize, message: impl Into<String>) -> Result<T, ExprError> {
    Err(ExprError::new(position, message))
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
    /// Regexes given as string literals are compiled (and so checked) here.
    pub fn parse(src: &str) -> Result<Expression, ExprError> {
        if src.chars().count() > MAX_SOURCE_CHARS {
            let message = format!("expression is longer than {MAX_SOURCE_CHARS} characters");
            return err(MAX_SOURCE_CHARS, message);
        }
        let (tokens, end) = lex(src)?;
        let mut parser = Parser { tokens: &tokens, next: 0, end, depth: 0 };
        let root = parser.expr()?;
        if let Some(t) = parser.peek() {
            let found = t.tok.describe();
            return err(t.pos, format!("unexpected {found} after the end of the expression"));
        }
        Ok(Expression { source: src.to_owned(), root })
    }

    /// The text this expression was parsed from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The variable roots the expression reads (e.g. `["idpuser"]`), sorted, without duplicates.
    pub fn roots(&self) -> Vec<String> {
        let roots: BTreeSet<&str> = self.variables().into_iter().map(|(root, _)| root).collect();
        roots.into_iter().map(str::to_owned).collect()
    }

    /// Every variable the expression reads, as its root and attribute path
    /// (`idpuser.email` is `("idpuser", ["email"])`), sorted, without duplicates.
    pub fn variables(&self) -> BTreeSet<(&str, &[String])> {
        let mut vars = BTreeSet::new();
        self.root.collect_vars(&mut vars);
        vars
    }

    /// Evaluates against `ctx`; missing attributes are `null`.
    pub fn evaluate(&self, ctx: &dyn EvalContext) -> Result<Value, ExprError> {
        self.root.eval(ctx)
    }

    /// Evaluates to text: `null` is `None`, numbers and booleans are stringified,
    /// arrays and objects are errors.
    pub fn evaluate_string(&self, ctx: &dyn EvalContext) -> Result<Option<String>, ExprError> {
        let wanted = "expected the expression to produce a string but it produced";
        into_text(self.evaluate(ctx)?, self.root.pos, wanted)
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

/// Operators and punctuation, longest first so that `==` wins over `=`.
const OPS: &[&str] = &["==", "!=", "&&", "||", "?:", "+", "!", "?", ":", "(", ")", ",", "."];

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Int(i64),
    Op(&'static str),
}

impl Tok {
    fn describe(&self) -> String {
        match self {
            Tok::Ident(text) => format!("'{text}'"),
            Tok::Op(op) => format!("'{op}'"),
            Tok::Str(_) => "a string literal".to_owned(),
            Tok::Int(n) => format!("number {n}"),
        }
    }
}

#[derive(Debug)]
struct Token {
    tok: Tok,
    pos: usize,
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '$'
}

/// The run of chars from `start` that satisfy `keep`, and the index after it.
fn scan(chars: &[char], start: usize, keep: fn(char) -> bool) -> (String, usize) {
    let end = start + chars.iter().skip(start).take_while(|c| keep(**c)).count();
    (chars.get(start..end).unwrap_or_default().iter().collect(), end)
}

/// Splits `src` into tokens; returns them with the end-of-input position.
fn lex(src: &str) -> Result<(Vec<Token>, usize), ExprError> {
    let chars: Vec<char> = src.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        let pos = i;
        let tok = if c.is_whitespace() {
            i += 1;
            continue;
        } else if c == '\'' || c == '"' {
            let (text, end) = lex_string(&chars, pos)?;
            i = end;
            Tok::Str(text)
        } else if c.is_ascii_digit() {
            let (digits, end) = scan(&chars, i, |c| c.is_ascii_digit());
            if chars.get(end).copied().is_some_and(is_ident_char) {
                return err(pos, "malformed number");
            }
            i = end;
            let too_large = |_| ExprError::new(pos, format!("number {digits} is too large"));
            Tok::Int(digits.parse().map_err(too_large)?)
        } else if c.is_ascii_alphabetic() || c == '_' || c == '$' {
            let (name, end) = scan(&chars, i, is_ident_char);
            i = end;
            Tok::Ident(name)
        } else if let Some(op) = OPS.iter().find(|op| op.chars().enumerate().all(|(k, o)| chars.get(i + k) == Some(&o))) {
            i += op.len();
            Tok::Op(op)
        } else if matches!(c, '=' | '&' | '|') {
            return err(pos, format!("unexpected character '{c}' (did you mean '{c}{c}'?)"));
        } else {
            return err(pos, format!("unexpected character '{c}'"));
        };
        tokens.push(Token { tok, pos });
    }
    Ok((tokens, chars.len()))
}

/// Reads a quoted string starting at `start`; returns its value and the index after it.
/// Escapes: `\n \t \r \0 \\ \' \"`, `\uXXXX`; any other `\x` keeps the backslash (so regexes
/// read naturally). A doubled quote inside the string stands for one quote, as in SpEL.
fn lex_string(chars: &[char], start: usize) -> Result<(String, usize), ExprError> {
    let quote = chars.get(start).copied().unwrap_or('"');
    let mut out = String::new();
    let mut i = start + 1;
    loop {
        let (Some(&c), next) = (chars.get(i), chars.get(i + 1).copied()) else {
            return err(start, "unterminated string literal");
        };
        i += 2;
        match (c, next) {
            (c, Some(n)) if c == quote && n == quote => out.push(quote),
            (c, _) if c == quote => return Ok((out, i - 1)),
            ('\\', None) => return err(start, "unterminated string literal"),
            ('\\', Some('n')) => out.push('\n'),
            ('\\', Some('t')) => out.push('\t'),
            ('\\', Some('r')) => out.push('\r'),
            ('\\', Some('0')) => out.push('\0'),
            ('\\', Some(e @ ('\\' | '\'' | '"'))) => out.push(e),
            ('\\', Some('u')) => {
                let hex: String = chars.get(i..i + 4).unwrap_or_default().iter().collect();
                let decoded = u32::from_str_radix(&hex, 16).ok().filter(|_| hex.len() == 4);
                let Some(ch) = decoded.and_then(char::from_u32) else {
                    return err(i - 2, "invalid \\u escape: expected four hex digits");
                };
                out.push(ch);
                i += 4;
            }
            ('\\', Some(other)) => out.extend(['\\', other]),
            (c, _) => {
                out.push(c);
                i -= 1;
            }
        }
    }
}

// ---------------------------------------------------------------- syntax tree and parser

/// Function name, minimum and maximum arity (`None` = variadic).
const FUNCTIONS: &[(&str, usize, Option<usize>)] = &[
    ("String.substringBefore", 2, Some(2)),
    ("String.substringAfter", 2, Some(2)),
    ("String.toLowerCase", 1, Some(1)),
    ("String.toUpperCase", 1, Some(1)),
    ("String.replace", 3, Some(3)),
    ("String.replaceFirst", 3, Some(3)),
    ("String.stringContains", 2, Some(2)),
    ("String.startsWith", 2, Some(2)),
    ("String.join", 1, None),
    ("String.len", 1, Some(1)),
    ("String.substring", 3, Some(3)),
    ("String.trim", 1, Some(1)),
    ("Arrays.contains", 2, Some(2)),
    ("isMemberOfGroupName", 1, Some(1)),
];

/// The functions the language knows: name, fewest and most arguments (`None`: any
/// number). The console's Expression Language Reference documents exactly these.
pub fn functions() -> impl Iterator<Item = (&'static str, usize, Option<usize>)> {
    FUNCTIONS.iter().copied()
}

#[derive(Debug, Clone)]
enum Node {
    Lit(Value),
    Var {
        root: String,
        path: Vec<String>,
    },
    Not(Box<Expr>),
    /// `a && b && …` when the flag is set, else `a || b || …`.
    Logic(bool, Vec<Expr>),
    /// `a == b`, or `a != b` when the flag is set.
    Eq(Box<Expr>, Box<Expr>, bool),
    Concat(Vec<Expr>),
    Ternary(Box<Expr>, Box<Expr>, Box<Expr>),
    Elvis(Box<Expr>, Box<Expr>),
    /// A call; `regex` is the pattern compiled at parse time when it was a literal.
    Call {
        name: &'static str,
        args: Vec<Expr>,
        regex: Option<Regex>,
    },
}

impl Node {
    fn at(self, pos: usize) -> Expr {
        Expr { node: self, pos }
    }
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

impl<'t> Parser<'t> {
    fn peek(&self) -> Option<&'t Token> {
        self.tokens.get(self.next)
    }

    fn peek_op(&self, op: &str) -> bool {
        self.peek().is_some_and(|t| matches!(t.tok, Tok::Op(o) if o == op))
    }

    fn bump(&mut self) -> Option<&'t Token> {
        self.next += 1;
        self.tokens.get(self.next - 1)
    }

    fn here(&self) -> usize {
        self.peek().map_or(self.end, |t| t.pos)
    }

    fn found(&self) -> String {
        self.peek().map_or_else(|| "the end of the expression".to_owned(), |t| t.tok.describe())
    }

    fn expect(&mut self, op: &str) -> Result<(), ExprError> {
        if self.peek_op(op) {
            self.next += 1;
            return Ok(());
        }
        err(self.here(), format!("expected '{op}' but found {}", self.found()))
    }

    /// Enters one nesting level opened at `pos`, refusing to go past [`MAX_DEPTH`].
    fn enter(&mut self, pos: usize) -> Result<(), ExprError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return err(pos, format!("expression is nested more than {MAX_DEPTH} levels deep"));
        }
        Ok(())
    }

    /// A nested sub-expression (parenthesised, argument, branch): one level deeper.
    fn nested(&mut self, pos: usize) -> Result<Expr, ExprError> {
        self.enter(pos)?;
        let e = self.expr()?;
        self.depth -= 1;
        Ok(e)
    }

    /// `or ( '?' expr ':' expr | '?:' expr )?`: the lowest precedence, right-associative.
    fn expr(&mut self) -> Result<Expr, ExprError> {
        let cond = self.or()?;
        let (pos, op_pos) = (cond.pos, self.here());
        if self.peek_op("?") {
            self.next += 1;
            let yes = self.nested(op_pos)?;
            self.expect(":")?;
            let no = self.nested(op_pos)?;
            Ok(Node::Ternary(Box::new(cond), Box::new(yes), Box::new(no)).at(pos))
        } else if self.peek_op("?:") {
            self.next += 1;
            let fallback = self.nested(op_pos)?;
            Ok(Node::Elvis(Box::new(cond), Box::new(fallback)).at(pos))
        } else {
            Ok(cond)
        }
    }

    /// One or more operands joined by `op`, built into an n-ary node (no extra depth).
    fn chain(
        &mut self,
        op: &str,
        operand: fn(&mut Self) -> Result<Expr, ExprError>,
        build: fn(Vec<Expr>) -> Node,
    ) -> Result<Expr, ExprError> {
        let first = operand(self)?;
        if !self.peek_op(op) {
            return Ok(first);
        }
        let pos = first.pos;
        let mut items = vec![first];
        while self.peek_op(op) {
            self.next += 1;
            items.push(operand(self)?);
        }
        Ok(build(items).at(pos))
    }

    fn or(&mut self) -> Result<Expr, ExprError> {
        self.chain("||", Self::and, |items| Node::Logic(false, items))
    }

    fn and(&mut self) -> Result<Expr, ExprError> {
        self.chain("&&", Self::equality, |items| Node::Logic(true, items))
    }

    fn equality(&mut self) -> Result<Expr, ExprError> {
        let mut left = self.concat()?;
        let entered = self.depth;
        while self.peek_op("==") || self.peek_op("!=") {
            let (negate, op_pos) = (self.peek_op("!="), self.here());
            self.next += 1;
            if matches!(left.node, Node::Eq(..)) {
                self.enter(op_pos)?; // a chained comparison nests the previous one
            }
            let (right, pos) = (self.concat()?, left.pos);
            left = Node::Eq(Box::new(left), Box::new(right), negate).at(pos);
        }
        self.depth = entered;
        Ok(left)
    }

    fn concat(&mut self) -> Result<Expr, ExprError> {
        self.chain("+", Self::unary, Node::Concat)
    }

    fn unary(&mut self) -> Result<Expr, ExprError> {
        if !self.peek_op("!") {
            return self.primary();
        }
        let pos = self.here();
        self.next += 1;
        self.enter(pos)?;
        let inner = self.unary()?;
        self.depth -= 1;
        Ok(Node::Not(Box::new(inner)).at(pos))
    }

    fn primary(&mut self) -> Result<Expr, ExprError> {
        let (pos, found) = (self.here(), self.found());
        let node = match self.bump().map(|t| &t.tok) {
            Some(Tok::Str(s)) => Node::Lit(Value::String(s.clone())),
            Some(Tok::Int(n)) => Node::Lit(Value::from(*n)),
            Some(Tok::Op("(")) => {
                let inner = self.nested(pos)?;
                self.expect(")")?;
                return Ok(inner);
            }
            Some(Tok::Ident(name)) => match name.as_str() {
                "true" => Node::Lit(Value::Bool(true)),
                "false" => Node::Lit(Value::Bool(false)),
                "null" => Node::Lit(Value::Null),
                _ => return self.name_or_call(name.clone(), pos),
            },
            _ => return err(pos, format!("expected an expression but found {found}")),
        };
        Ok(node.at(pos))
    }

    /// After the first identifier: a dotted variable path, or a function call if `(` follows.
    fn name_or_call(&mut self, first: String, pos: usize) -> Result<Expr, ExprError> {
        let mut segments = vec![first];
        while self.peek_op(".") {
            self.next += 1;
            let here = self.here();
            match self.bump().map(|t| &t.tok) {
                Some(Tok::Ident(seg)) => segments.push(seg.clone()),
                _ => return err(here, "expected an attribute name after '.'"),
            }
        }
        if !self.peek_op("(") {
            let mut segments = segments.into_iter();
            let root = segments.next().unwrap_or_default();
            return Ok(Node::Var { root, path: segments.collect() }.at(pos));
        }
        let full = segments.join(".");
        let Some(&(name, min, max)) = FUNCTIONS.iter().find(|f| f.0 == full) else {
            return err(pos, format!("unknown function '{full}'"));
        };
        let paren = self.here();
        self.next += 1;
        let mut args = Vec::new();
        if self.peek_op(")") {
            self.next += 1;
        } else {
            loop {
                args.push(self.nested(paren)?);
                let (here, found) = (self.here(), self.found());
                match self.bump().map(|t| &t.tok) {
                    Some(Tok::Op(",")) => {}
                    Some(Tok::Op(")")) => break,
                    _ => return err(here, format!("expected ',' or ')' but found {found}")),
                }
            }
        }
        if args.len() < min || max.is_some_and(|m| args.len() > m) {
            let at_least = if max == Some(min) { "" } else { "at least " };
            let noun = if min == 1 { "argument" } else { "arguments" };
            let got = args.len();
            return err(pos, format!("{name} expects {at_least}{min} {noun} but got {got}"));
        }
        let regex = match args.get(1).map(|a| (&a.node, a.pos)) {
            Some((Node::Lit(Value::String(p)), at)) if name.starts_with("String.replace") => Some(compile_regex(p, at)?),
            _ => None,
        };
        Ok(Node::Call { name, args, regex }.at(pos))
    }
}

// ---------------------------------------------------------------- evaluation

impl Expr {
    fn collect_vars<'a>(&'a self, out: &mut BTreeSet<(&'a str, &'a [String])>) {
        match &self.node {
            Node::Lit(_) => {}
            Node::Var { root, path } => {
                out.insert((root, path));
            }
            Node::Not(a) => a.collect_vars(out),
            Node::Eq(a, b, _) | Node::Elvis(a, b) => [a, b].iter().for_each(|e| e.collect_vars(out)),
            Node::Ternary(a, b, c) => [a, b, c].iter().for_each(|e| e.collect_vars(out)),
            Node::Logic(_, items) | Node::Concat(items) | Node::Call { args: items, .. } => {
                items.iter().for_each(|e| e.collect_vars(out));
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
            // `&&` stops at the first false, `||` at the first true.
            Node::Logic(and, items) => {
                for e in items {
                    if e.eval_bool(ctx)? != *and {
                        return Ok(Value::Bool(!and));
                    }
                }
                Ok(Value::Bool(*and))
            }
            Node::Eq(a, b, negate) => Ok(Value::Bool(values_equal(&a.eval(ctx)?, &b.eval(ctx)?) != *negate)),
            Node::Concat(items) => {
                let mut out = String::new();
                for e in items {
                    out.extend(into_text(e.eval(ctx)?, e.pos, "cannot concatenate")?);
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
            Node::Elvis(a, fallback) => match a.eval(ctx)? {
                Value::Null => fallback.eval(ctx),
                Value::String(s) if s.is_empty() => fallback.eval(ctx),
                Value::Array(items) if items.is_empty() => fallback.eval(ctx),
                v => Ok(v),
            },
            Node::Call { name, args, regex } => call(self.pos, name, args, regex.as_ref(), ctx),
        }
    }

    /// Evaluates as a condition: booleans, `null` (false), and the strings "true"/"false".
    fn eval_bool(&self, ctx: &dyn EvalContext) -> Result<bool, ExprError> {
        match self.eval(ctx)? {
            Value::Bool(b) => Ok(b),
            Value::Null => Ok(false),
            Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(true),
            Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(false),
            other => err(self.pos, format!("expected a boolean but found {}", kind(&other))),
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
        let wrong = || ExprError::new(self.pos, format!("{name} expects an integer but found {}", kind(&v)));
        n.ok_or_else(wrong)
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

/// `null` is `None`; strings, numbers and booleans are their text; arrays and objects are an
/// error at `pos` saying "`complaint` an array".
fn into_text(v: Value, pos: usize, complaint: &str) -> Result<Option<String>, ExprError> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s)),
        Value::Number(n) => Ok(Some(n.to_string())),
        Value::Bool(b) => Ok(Some(b.to_string())),
        other => err(pos, format!("{complaint} {}", kind(&other))),
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
    let built = RegexBuilder::new(pattern).size_limit(REGEX_SIZE_LIMIT).dfa_size_limit(REGEX_SIZE_LIMIT).build();
    built.map_err(|e| {
        // the regex crate's message spans lines; its last line says what is wrong
        let text = e.to_string();
        let last = text.lines().rev().map(str::trim).find(|l| !l.is_empty());
        let reason = last.map_or("invalid", |l| l.strip_prefix("error: ").unwrap_or(l));
        ExprError::new(pos, format!("invalid regular expression {pattern:?}: {reason}"))
    })
}

fn call(pos: usize, name: &str, args: &[Expr], regex: Option<&Regex>, ctx: &dyn EvalContext) -> Result<Value, ExprError> {
    let arg = |i: usize| args.get(i).ok_or_else(|| ExprError::new(pos, format!("{name}: missing argument")));
    let text = |i: usize| -> Result<Option<String>, ExprError> {
        let e = arg(i)?;
        into_text(e.eval(ctx)?, e.pos, &format!("{name} expects a string but found"))
    };
    let string = |s: Option<String>| s.map_or(Value::Null, Value::String);
    Ok(match name {
        // StringUtils semantics: separator missing from s => all of s before it, nothing after.
        "String.substringBefore" | "String.substringAfter" => {
            let (s, sep) = (text(0)?, text(1)?);
            let before = name == "String.substringBefore";
            string(s.map(|s| {
                let found = sep.and_then(|sep| s.find(&sep).map(|i| (i, sep.len())));
                match (found, before) {
                    (Some((i, _)), true) => s.get(..i).unwrap_or("").to_owned(),
                    (Some((i, n)), false) => s.get(i + n..).unwrap_or("").to_owned(),
                    (None, true) => s,
                    (None, false) => String::new(),
                }
            }))
        }
        "String.toLowerCase" => string(text(0)?.map(|s| s.to_lowercase())),
        "String.toUpperCase" => string(text(0)?.map(|s| s.to_uppercase())),
        "String.trim" => string(text(0)?.map(|s| s.trim().to_owned())),
        "String.len" => Value::from(text(0)?.map_or(0, |s| s.chars().count())),
        "String.stringContains" => Value::Bool(matches!((text(0)?, text(1)?), (Some(s), Some(sub)) if s.contains(&sub))),
        "String.startsWith" => Value::Bool(matches!((text(0)?, text(1)?), (Some(s), Some(p)) if s.starts_with(&p))),
        "String.substring" => {
            let s = text(0)?;
            let (start, end) = (arg(1)?.eval_int(ctx, name)?, arg(2)?.eval_int(ctx, name)?);
            string(s.map(|s| {
                let len = s.chars().count();
                let clamp = |n: i64| usize::try_from(n).unwrap_or(0).min(len);
                let (start, end) = (clamp(start), clamp(end));
                s.chars().skip(start).take(end.saturating_sub(start)).collect()
            }))
        }
        "String.replace" | "String.replaceFirst" => {
            let (s, replacement) = (text(0)?, text(2)?.unwrap_or_default());
            let compiled = match (regex, text(1)?) {
                (Some(_), _) | (None, None) => None,
                (None, Some(p)) => Some(compile_regex(&p, arg(1)?.pos)?),
            };
            match (s, regex.or(compiled.as_ref())) {
                (None, _) => Value::Null,
                (Some(s), None) => Value::String(s),
                (Some(s), Some(re)) => {
                    let template = java_replacement(&replacement, re, arg(2)?.pos)?;
                    let limit = if name == "String.replace" { 0 } else { 1 };
                    Value::String(re.replacen(&s, limit, template.as_str()).into_owned())
                }
            }
        }
        "String.join" => {
            let sep = text(0)?.unwrap_or_default();
            let mut parts: Vec<String> = Vec::new();
            for e in args.iter().skip(1) {
                let complaint = format!("{name} cannot join");
                match e.eval(ctx)? {
                    Value::Array(items) => {
                        for item in items {
                            parts.extend(into_text(item, e.pos, &complaint)?);
                        }
                    }
                    single => parts.extend(into_text(single, e.pos, &complaint)?),
                }
            }
            Value::String(parts.join(&sep))
        }
        "Arrays.contains" => {
            let (haystack, needle) = (arg(0)?.eval(ctx)?, arg(1)?.eval(ctx)?);
            Value::Bool(match &haystack {
                Value::Null => false,
                Value::Array(items) => items.iter().any(|i| values_equal(i, &needle)),
                single => values_equal(single, &needle),
            })
        }
        "isMemberOfGroupName" => Value::Bool(text(0)?.is_some_and(|g| ctx.is_member_of_group_name(&g))),
        _ => return err(pos, format!("unknown function '{name}'")),
    })
}

/// Rewrites a Java `Matcher.replaceAll` replacement for the regex crate: `$n` (greedy over
/// digits while such a group exists), `${name}`, and `\x` for a literal `x`; any other `$` is
/// an error, as in Java.
fn java_replacement(repl: &str, re: &Regex, pos: usize) -> Result<String, ExprError> {
    let groups = re.captures_len();
    let mut out = String::new();
    let mut chars = repl.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, chars.next_if(|_| c == '\\' || c == '$')) {
            ('\\', None) => return err(pos, "replacement ends with a lone '\\'"),
            ('\\', Some('$')) => out.push_str("$$"),
            ('\\', Some(e)) => out.push(e),
            ('$', Some('{')) => {
                let name: String = chars.by_ref().take_while(|&c| c != '}').collect();
                if !re.capture_names().any(|n| n == Some(name.as_str())) {
                    return err(pos, format!("replacement refers to unknown group '{name}'"));
                }
                out.push_str(&format!("${{{name}}}"));
            }
            ('$', Some(d)) if d.is_ascii_digit() => {
                let mut n = d.to_digit(10).map_or(0, |d| d as usize);
                if n >= groups {
                    return err(pos, format!("replacement refers to group {n}, which does not exist"));
                }
                while let Some(more) = chars.peek().and_then(|c| c.to_digit(10)) {
                    if n * 10 + more as usize >= groups {
                        break;
                    }
                    n = n * 10 + more as usize;
                    chars.next();
                }
                out.push_str(&format!("${{{n}}}"));
            }
            ('$', _) => return err(pos, "'$' in a replacement must be followed by a group number or {name}"),
            (c, _) => out.push(c),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
