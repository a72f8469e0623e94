//! Turning a validated filter/search expression into a SQL `WHERE` fragment that runs on
//! both SQLite and PostgreSQL. Values are always bound (`$n`), never spliced; the
//! caller maps attributes to SQL expressions.

use idhub_domain::filter::{Expr, FilterError, Op, Value};

/// How a column's values compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    /// Text.
    Text,
    /// Epoch milliseconds; filter values are ISO timestamps.
    Millis,
    /// A whole number.
    Integer,
}

/// A SQL expression for an attribute.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub sql: String,
    pub kind: ColumnKind,
}

/// A value to bind.
#[derive(Debug, Clone, PartialEq)]
pub enum Bind {
    Text(String),
    Int(i64),
}

/// A fragment and its values.
#[derive(Debug, Clone, PartialEq)]
pub struct SqlWhere {
    pub sql: String,
    pub binds: Vec<Bind>,
}

struct Builder<'a> {
    next: usize,
    binds: Vec<Bind>,
    resolve: &'a dyn Fn(&str) -> Option<Column>,
    ci: bool,
}

fn err<T>(message: impl Into<String>) -> Result<T, FilterError> {
    Err(FilterError { position: 0, message: message.into() })
}

impl Builder<'_> {
    fn bind(&mut self, b: Bind) -> String {
        self.binds.push(b);
        let p = format!("${}", self.next);
        self.next += 1;
        p
    }

    fn build(&mut self, e: &Expr) -> Result<String, FilterError> {
        Ok(match e {
            Expr::And(a, b) => format!("({} AND {})", self.build(a)?, self.build(b)?),
            Expr::Or(a, b) => format!("({} OR {})", self.build(a)?, self.build(b)?),
            Expr::Not(a) => format!("(NOT {})", self.build(a)?),
            Expr::Present { attr } => {
                let c = (self.resolve)(attr).ok_or_else(|| FilterError { position: 0, message: format!("unknown attribute '{attr}'") })?;
                match c.kind {
                    ColumnKind::Text => format!("({0} IS NOT NULL AND {0} <> '')", c.sql),
                    _ => format!("({} IS NOT NULL)", c.sql),
                }
            }
            Expr::Cmp { attr, op, value } => {
                let c = (self.resolve)(attr).ok_or_else(|| FilterError { position: 0, message: format!("unknown attribute '{attr}'") })?;
                self.cmp(&c, *op, value)?
            }
        })
    }

    fn cmp(&mut self, c: &Column, op: Op, value: &Value) -> Result<String, FilterError> {
        if *value == Value::Null {
            return match op {
                Op::Eq => Ok(format!("({} IS NULL)", c.sql)),
                Op::Ne => Ok(format!("({} IS NOT NULL)", c.sql)),
                _ => err("null can only be compared with eq or ne"),
            };
        }
        match c.kind {
            ColumnKind::Millis => {
                let Value::Str(s) = value else {
                    return err("a date must be a quoted timestamp");
                };
                let Some(ms) = idhub_domain::time::parse_timestamp(s) else {
                    return err(format!("'{s}' is not a timestamp"));
                };
                let p = self.bind(Bind::Int(ms));
                Ok(format!("({} {} {p})", c.sql, sql_op(op)?))
            }
            ColumnKind::Integer => {
                let n = match value {
                    Value::Num(n) if n.fract() == 0.0 => *n as i64,
                    Value::Str(s) => {
                        s.parse::<i64>().map_err(|_| FilterError { position: 0, message: format!("'{s}' is not a whole number") })?
                    }
                    _ => return err("expected a whole number"),
                };
                let p = self.bind(Bind::Int(n));
                Ok(format!("({} {} {p})", c.sql, sql_op(op)?))
            }
            ColumnKind::Text => {
                let text = match value {
                    Value::Str(s) => s.clone(),
                    Value::Num(n) => n.to_string(),
                    Value::Bool(b) => b.to_string(),
                    Value::Null => String::new(),
                };
                let (col, text) = if self.ci { (format!("LOWER({})", c.sql), text.to_lowercase()) } else { (c.sql.clone(), text) };
                let like = |b: &mut Self, pattern: String| {
                    let p = b.bind(Bind::Text(pattern));
                    format!("({col} LIKE {p} ESCAPE '\\')")
                };
                Ok(match op {
                    Op::Co => like(self, format!("%{}%", escape_like(&text))),
                    Op::Sw => like(self, format!("{}%", escape_like(&text))),
                    Op::Ew => like(self, format!("%{}", escape_like(&text))),
                    other => {
                        let p = self.bind(Bind::Text(text));
                        format!("({col} {} {p})", sql_op(other)?)
                    }
                })
            }
        }
    }
}

fn sql_op(op: Op) -> Result<&'static str, FilterError> {
    Ok(match op {
        Op::Eq => "=",
        Op::Ne => "<>",
        Op::Gt => ">",
        Op::Ge => ">=",
        Op::Lt => "<",
        Op::Le => "<=",
        Op::Co | Op::Sw | Op::Ew => return err("a pattern operator needs a text attribute"),
    })
}

fn escape_like(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Build the fragment. Placeholders are numbered from `next_placeholder`; with
/// `ci_values` text comparisons ignore case (Okta's `search`), else they are exact.
pub fn to_sql(
    expr: &Expr,
    next_placeholder: usize,
    resolve: &dyn Fn(&str) -> Option<Column>,
    ci_values: bool,
) -> Result<SqlWhere, FilterError> {
    let mut b = Builder { next: next_placeholder, binds: Vec::new(), resolve, ci: ci_values };
    let sql = b.build(expr)?;
    Ok(SqlWhere { sql, binds: b.binds })
}

#[cfg(test)]
mod tests {
    use super::*;
    use idhub_domain::filter::parse;

    fn resolve(attr: &str) -> Option<Column> {
        match attr {
            "status" => Some(Column { sql: "status".into(), kind: ColumnKind::Text }),
            "lastUpdated" => Some(Column { sql: "last_updated".into(), kind: ColumnKind::Millis }),
            "n" => Some(Column { sql: "n".into(), kind: ColumnKind::Integer }),
            _ => None,
        }
    }

    fn build(input: &str, ci: bool) -> Result<SqlWhere, FilterError> {
        to_sql(&parse(input)?, 3, &resolve, ci)
    }

    #[test]
    fn builds_bound_sql() {
        let w = build(r#"status eq "ACTIVE" or lastUpdated gt "2013-06-01T00:00:00.000Z""#, false)
            .unwrap_or(SqlWhere { sql: String::new(), binds: vec![] });
        assert_eq!(w.sql, "((status = $3) OR (last_updated > $4))");
        assert_eq!(w.binds, vec![Bind::Text("ACTIVE".into()), Bind::Int(1_370_044_800_000)]);
        let w = build(r#"status sw "A%_""#, true).unwrap_or(SqlWhere { sql: String::new(), binds: vec![] });
        assert_eq!(w.sql, "(LOWER(status) LIKE $3 ESCAPE '\\')");
        assert_eq!(w.binds, vec![Bind::Text("a\\%\\_%".into())]);
        let w = build("status pr and n ge 5", false).unwrap_or(SqlWhere { sql: String::new(), binds: vec![] });
        assert_eq!(w.sql, "((status IS NOT NULL AND status <> '') AND (n >= $3))");
        assert_eq!(w.binds, vec![Bind::Int(5)]);
        assert!(build(r#"bogus eq "x""#, false).is_err());
        assert!(build(r#"lastUpdated gt "soon""#, false).is_err());
        assert!(build(r#"lastUpdated co "2013-06-01T00:00:00.000Z""#, false).is_err());
        let injection = build(r#"status eq "x' OR '1'='1""#, false).unwrap_or(SqlWhere { sql: String::new(), binds: vec![] });
        assert!(!injection.sql.contains("OR '1'"), "values are bound, never spliced");
    }
}
