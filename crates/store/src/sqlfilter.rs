//! TEMPORARY STUB — replaced by the real SQL builder.
use idhub_domain::filter::{Expr, FilterError};
pub enum ColumnKind { Text, Millis, Integer }
pub struct Column { pub sql: String, pub kind: ColumnKind }
#[derive(Debug, Clone, PartialEq)]
pub enum Bind { Text(String), Int(i64) }
pub struct SqlWhere { pub sql: String, pub binds: Vec<Bind> }
pub fn to_sql(_expr: &Expr, _n: usize, _resolve: &dyn Fn(&str) -> Option<Column>, _ci: bool) -> Result<SqlWhere, FilterError> { Err(FilterError { position: 0, message: "stub".into() }) }
