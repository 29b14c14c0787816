//! Spec files: YAML text in, a validated model with source positions out.
//!
//! No sockets, no processes: `conform check` and the JSON Schema need nothing else.

pub mod data;
pub mod duration;
pub mod error;
pub mod expr;
mod load;
pub mod model;
pub mod payload;
pub mod validate;
pub mod window;

pub use data::{Data, Env, Value};
pub use duration::Dur;
pub use error::SpecError;
pub use load::{load_file, load_str};
pub use model::*;
