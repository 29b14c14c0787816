//! Sessions at run time: a case of a session scenario is a sequence of commands, each with the
//! values it plays with, after the values of the scenario's own steps.
//!
//! In: a scenario's `commands` and `session:` settings. Out: [`SessionCase`]s generated from
//! a seed ([`generate`]), shrunk to the simplest that still fails ([`shrink`]), and written as
//! text for replay lines and regression specs ([`encode`]). No I/O here: playing a session is
//! `run`'s business.

pub mod clients;
pub mod encode;
pub mod generate;
pub mod model;
pub mod shrink;

use crate::spec::Env;

/// One command of a session: which template (its position in `commands`), and its values.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Call {
    pub command: usize,
    pub env: Env,
}

/// The values of one case: those of the scenario's own steps, then the commands played.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct SessionCase {
    pub prelude: Env,
    pub calls: Vec<Call>,
}

/// The order in which sessions are simpler: fewer commands, then earlier templates (a spec
/// lists its simplest commands first), then smaller values (shortlex, as for single cases).
pub fn key(case: &SessionCase) -> (usize, Vec<usize>, usize, Vec<u64>) {
    let templates = case.calls.iter().map(|c| c.command).collect();
    let mut size = 0;
    let mut values = Vec::new();
    for env in std::iter::once(&case.prelude).chain(case.calls.iter().map(|c| &c.env)) {
        let (s, v) = crate::input::shrink::key(env);
        size += s;
        values.extend(v);
    }
    (case.calls.len(), templates, size, values)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Value;

    fn call(command: usize, bytes: &[u8]) -> Call {
        let mut env = Env::new();
        env.insert("v".into(), Value::Bytes(bytes.to_vec()));
        Call { command, env }
    }

    #[test]
    fn fewer_commands_then_earlier_templates_then_smaller_values_are_simpler() {
        let case = |calls: Vec<Call>| SessionCase {
            prelude: Env::new(),
            calls,
        };
        let long = case(vec![call(0, b""), call(0, b"")]);
        let short_big = case(vec![call(2, b"zzzz")]);
        assert!(key(&short_big) < key(&long));
        assert!(key(&case(vec![call(0, b"zzzz")])) < key(&short_big));
        assert!(key(&case(vec![call(2, b"a")])) < key(&short_big));
    }
}
