//! The inputs of generated cases: generating a case's values from a seed, shrinking a failing
//! input to the simplest that still fails, and saving a minimal counterexample as a regression
//! spec.
//!
//! In: a scenario's generators, a seed, a "does it still fail?" callback. Out: values, the
//! simplest failing values with what the search proved, regression spec files. No sockets and
//! no processes: the runner plays the values.

pub mod generate;
pub mod regress;
pub mod session;
pub mod shrink;
