//! TEMPORARY STUB — replaced by the real filter parser.
#[derive(Debug, Clone, PartialEq)]
pub enum Value { Str(String), Num(f64), Bool(bool), Null }
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Op { Eq, Ne, Co, Sw, Ew, Gt, Ge, Lt, Le }
#[derive(Debug, Clone, PartialEq)]
pub enum Expr { Cmp { attr: String, op: Op, value: Value }, Present { attr: String }, And(Box<Expr>, Box<Expr>), Or(Box<Expr>, Box<Expr>), Not(Box<Expr>) }
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("Invalid search criteria at position {position}: {message}")]
pub struct FilterError { pub position: usize, pub message: String }
#[derive(Debug, Clone, Copy)]
pub enum Context { UserFilter, UserSearch, GroupFilter, GroupSearch, LogFilter }
pub fn parse(_input: &str) -> Result<Expr, FilterError> { Err(FilterError { position: 0, message: "stub".into() }) }
pub fn validate(_expr: &Expr, _ctx: Context) -> Result<(), FilterError> { Ok(()) }
