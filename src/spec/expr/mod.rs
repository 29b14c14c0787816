//! The embedded expression language of specs (Rhai): computed bytes (`{expr: "..."}`), and a
//! session's model of the server's state (`model:`, `when:`, `update:`).
//!
//! In: expression source with its YAML position, compiled once at load time; at run time the
//! generated values of a case (and the model's state, as `state`). Out: bytes, a boolean or a
//! new state. Pure and bounded: the engine has no I/O, no `eval`, no modules, no clock or
//! randomness, and limits on operations, call depth and the size of strings, arrays and maps.

mod helpers;
mod val;

use std::fmt;
use std::sync::{Arc, OnceLock};

use rhai::{AST, Dynamic, Engine, ParseErrorType, Scope};

pub use val::Val;

/// Operations one evaluation may take: enough for any model a spec keeps, few enough that a
/// runaway loop ends at once.
const MAX_OPERATIONS: u64 = 100_000;
/// Largest string, array, blob or map a value may grow to.
const MAX_SIZE: usize = 1 << 20;
/// Free variables one expression may name (each found by one compilation).
const MAX_FREE: usize = 64;

/// The name under which expressions see the model's state.
pub const STATE: &str = "state";

/// A compiled expression and where the spec wrote it.
#[derive(Clone)]
pub struct Expr {
    source: String,
    ast: Arc<AST>,
    /// The variables it reads, every one of which the loader checks is known.
    free: Vec<String>,
    /// 1-based line and column of the expression's text in the YAML file.
    pub line: u64,
    pub column: u64,
}

impl PartialEq for Expr {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl Eq for Expr {}

impl fmt::Debug for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Expr({:?})", self.source)
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

/// The values an expression may read, by name (a case's generated values, as `spec::data`
/// provides them).
pub trait Vars {
    fn val(&self, name: &str) -> Option<Val>;
}

/// An expression that failed to compile or to evaluate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ExprError {
    pub message: String,
    /// 1-based line and column inside the expression's text, when known.
    pub at: Option<(usize, usize)>,
}

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| build(false))
}

fn strict_engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| build(true))
}

fn build(strict: bool) -> Engine {
    let mut engine = Engine::new();
    engine
        .set_max_operations(MAX_OPERATIONS)
        .set_max_call_levels(32)
        .set_max_expr_depths(64, 32)
        .set_max_string_size(MAX_SIZE)
        .set_max_array_size(MAX_SIZE)
        .set_max_map_size(MAX_SIZE)
        .set_strict_variables(strict)
        .disable_symbol("eval")
        .on_print(|_| {})
        .on_debug(|_, _, _| {});
    helpers::register(&mut engine);
    engine
}

impl Expr {
    /// Compiles `source`, written at `line:column` of the spec, and finds the variables it
    /// reads.
    pub fn compile(source: &str, line: u64, column: u64) -> Result<Expr, ExprError> {
        let ast = engine().compile(source).map_err(|e| ExprError {
            message: e.err_type().to_string(),
            at: e
                .position()
                .line()
                .map(|l| (l, e.position().position().unwrap_or(1))),
        })?;
        let free = free_variables(source)?;
        Ok(Expr {
            source: source.to_string(),
            ast: Arc::new(ast),
            free,
            line,
            column,
        })
    }

    /// The variables the expression reads.
    pub fn vars(&self) -> &[String] {
        &self.free
    }

    /// Evaluates the expression with the case's values in scope.
    pub fn eval(&self, env: &impl Vars) -> Result<Val, ExprError> {
        let mut scope = Scope::new();
        for name in &self.free {
            if let Some(value) = env.val(name) {
                scope.push_dynamic(name.as_str(), value.to_dynamic());
            }
        }
        engine()
            .eval_ast_with_scope::<Dynamic>(&mut scope, &self.ast)
            .map(|d| Val::from_dynamic(&d))
            .map_err(|e| ExprError {
                message: e.to_string(),
                at: e
                    .position()
                    .line()
                    .map(|l| (l, e.position().position().unwrap_or(1))),
            })
    }

    /// The bytes the expression's value stands for: a string's UTF-8, a blob's bytes, a
    /// number's decimal text.
    pub fn bytes(&self, env: &impl Vars) -> Result<Vec<u8>, ExprError> {
        let value = self.eval(env)?;
        value.to_bytes().ok_or_else(|| ExprError {
            message: format!(
                "`{}` gave {}, which is not bytes: give a string, a blob or a number",
                self.source,
                value.kind()
            ),
            at: None,
        })
    }

    /// Whether the expression holds; anything but a boolean is an error.
    pub fn holds(&self, env: &impl Vars) -> Result<bool, ExprError> {
        match self.eval(env)? {
            Val::Bool(b) => Ok(b),
            other => Err(ExprError {
                message: format!(
                    "`{}` gave {}, but a condition is true or false",
                    self.source,
                    other.kind()
                ),
                at: None,
            }),
        }
    }
}

/// The variables `source` reads: each compilation in strict mode names the first one not yet
/// in scope, which is added before trying again.
fn free_variables(source: &str) -> Result<Vec<String>, ExprError> {
    let mut scope = Scope::new();
    let mut found = Vec::new();
    for _ in 0..MAX_FREE {
        match strict_engine().compile_with_scope(&scope, source) {
            Ok(_) => return Ok(found),
            Err(e) => match e.err_type() {
                ParseErrorType::VariableUndefined(name) if !found.contains(name) => {
                    scope.push_dynamic(name.as_str(), Dynamic::UNIT);
                    found.push(name.clone());
                }
                other => {
                    return Err(ExprError {
                        message: other.to_string(),
                        at: e
                            .position()
                            .line()
                            .map(|l| (l, e.position().position().unwrap_or(1))),
                    });
                }
            },
        }
    }
    Err(ExprError {
        message: format!("an expression reads at most {MAX_FREE} variables"),
        at: None,
    })
}

#[cfg(test)]
mod tests;
