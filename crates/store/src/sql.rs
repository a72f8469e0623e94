//! Small helpers for building dynamic SQL safely: binding a list of values, escaping
//! LIKE patterns.

use crate::sqlfilter::Bind;
use sqlx::any::AnyArguments;
use sqlx::query::Query;
use sqlx::Any;

/// Bind values in order to a query built with `$1…$n` placeholders.
pub(crate) fn bind_all<'q>(mut query: Query<'q, Any, AnyArguments<'q>>, binds: &'q [Bind]) -> Query<'q, Any, AnyArguments<'q>> {
    for b in binds {
        query = match b {
            Bind::Text(s) => query.bind(s.as_str()),
            Bind::Int(i) => query.bind(*i),
        };
    }
    query
}

/// Escape `%`, `_` and `\` for a LIKE pattern used with `ESCAPE '\'`.
pub(crate) fn escape_like(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The exclusive upper bound for a prefix range scan (`col >= p AND col < upper(p)`),
/// which uses a plain b-tree index on both databases (keys are byte-ordered).
pub(crate) fn prefix_upper(prefix: &str) -> String {
    format!("{prefix}\u{10FFFF}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_escaping() {
        assert_eq!(escape_like("50%_a\\b"), "50\\%\\_a\\\\b");
    }
}
