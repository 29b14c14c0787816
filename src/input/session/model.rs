//! A session's model of the server's state: the state before each command, computed from the
//! initial state and each earlier command's `update`, and whether each command's `when`
//! holds there.
//!
//! In: a scenario's `model:` and its commands' `when:` and `update:` (compiled at load time),
//! and a [`SessionCase`]. Out: the state before each command (which its steps see as
//! `state`), or why the case is not one the model allows. Pure: the same case gives the same
//! states everywhere.

use super::{Call, SessionCase};
use crate::spec::expr::{Expr, ExprError, STATE, Val};
use crate::spec::{Env, Scenario, Value};

/// Commands tried, at one point of a session, before it ends because none is allowed.
pub const ATTEMPTS: usize = 16;

/// The model rules of a scenario.
#[derive(Debug, Clone, Default)]
pub struct Model {
    initial: Option<Expr>,
    /// Per command template: its precondition and its update.
    rules: Vec<(Option<Expr>, Option<Expr>)>,
    names: Vec<String>,
}

/// Why a case is not one the model allows, or could not be followed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelError {
    #[error("command {index} (`{name}`): its `when` does not hold")]
    Refused { index: usize, name: String },
    #[error("command {index} (`{name}`): `{part}` failed: {error}")]
    Failed {
        index: usize,
        name: String,
        part: &'static str,
        error: ExprError,
    },
    #[error("the model's `initial` failed: {0}")]
    Initial(ExprError),
}

impl Model {
    /// The scenario's model, when it has one or any command has a precondition.
    pub fn of(scenario: &Scenario) -> Option<Model> {
        let rules: Vec<_> = scenario
            .commands
            .iter()
            .map(|c| {
                let c = &c.value;
                (
                    c.when.as_ref().map(|w| w.0.clone()),
                    c.update.as_ref().map(|u| u.0.clone()),
                )
            })
            .collect();
        let initial = scenario.model.as_ref().map(|m| m.value.initial.0.clone());
        let any = initial.is_some() || rules.iter().any(|(w, u)| w.is_some() || u.is_some());
        let names = scenario
            .commands
            .iter()
            .map(|c| c.value.name.value.clone())
            .collect();
        any.then_some(Model {
            initial,
            rules,
            names,
        })
    }

    pub fn initial(&self) -> Result<Val, ModelError> {
        match &self.initial {
            Some(expr) => expr.eval(&Env::new()).map_err(ModelError::Initial),
            None => Ok(Val::Unit),
        }
    }

    /// What a command's expressions see: the scenario's values, the command's and `state`.
    pub fn scope(prelude: &Env, call: &Call, state: &Val) -> Env {
        let mut env = prelude.clone();
        env.extend(call.env.iter().map(|(k, v)| (k.clone(), v.clone())));
        env.insert(STATE.to_string(), Value::Model(state.clone()));
        env
    }

    /// Whether `call` may be played in `state`.
    pub fn allows(&self, prelude: &Env, call: &Call, state: &Val) -> Result<bool, ExprError> {
        match self.rules.get(call.command).and_then(|r| r.0.as_ref()) {
            Some(when) => when.holds(&Model::scope(prelude, call, state)),
            None => Ok(true),
        }
    }

    /// The state after `call`, played in `state`.
    pub fn next(&self, prelude: &Env, call: &Call, state: &Val) -> Result<Val, ExprError> {
        match self.rules.get(call.command).and_then(|r| r.1.as_ref()) {
            Some(update) => update.eval(&Model::scope(prelude, call, state)),
            None => Ok(state.clone()),
        }
    }

    /// The state before each command of `case`, checking every precondition.
    pub fn states(&self, case: &SessionCase) -> Result<Vec<Val>, ModelError> {
        let mut state = self.initial()?;
        let mut out = Vec::with_capacity(case.calls.len());
        for (index, call) in case.calls.iter().enumerate() {
            let name = || self.names.get(call.command).cloned().unwrap_or_default();
            let failed = |part, error| ModelError::Failed {
                index: index + 1,
                name: name(),
                part,
                error,
            };
            if !self
                .allows(&case.prelude, call, &state)
                .map_err(|e| failed("when", e))?
            {
                return Err(ModelError::Refused {
                    index: index + 1,
                    name: name(),
                });
            }
            let next = self
                .next(&case.prelude, call, &state)
                .map_err(|e| failed("update", e))?;
            out.push(std::mem::replace(&mut state, next));
        }
        Ok(out)
    }

    /// Whether the model allows every command of `case` where it stands.
    pub fn admits(&self, case: &SessionCase) -> bool {
        self.states(case).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::time::Duration;

    use super::*;
    use crate::input::generate::Rng;
    use crate::input::session::shrink::{Space, shrink};
    use crate::input::shrink::{Limits, Probe};

    /// GET and DEL only of a key the model holds; SET stores it.
    const SPEC: &str = "scenarios:
  - name: kv
    role: server
    transport: tcp
    session: {max_commands: 8}
    model: {initial: '#{}'}
    steps:
      - connect
    commands:
      - name: GET
        generate:
          key: {text: {chars: 'a-c', min_length: 1, max_length: 1}}
        when: 'key in state'
        steps:
          - send: {var: key}
      - name: DEL
        generate:
          key: {text: {chars: 'a-c', min_length: 1, max_length: 1}}
        when: 'key in state'
        update: 'let s = state; s.remove(key); s'
        steps:
          - send: {var: key}
      - name: SET
        generate:
          key: {text: {chars: 'a-c', min_length: 1, max_length: 1}}
        update: 'let s = state; s[key] = 1; s'
        steps:
          - send: {var: key}
";

    fn spec() -> crate::spec::Spec {
        crate::spec::load_str("kv.yaml", SPEC).unwrap()
    }

    #[test]
    fn generated_sessions_meet_every_precondition() {
        let spec = spec();
        let scenario = &spec.file.scenarios[0].value;
        let model = Model::of(scenario).unwrap();
        let mut gets = 0;
        for seed in 0..40 {
            let case = crate::input::session::generate::session(
                &mut Rng::new(seed),
                scenario,
                &BTreeMap::new(),
            );
            assert_eq!(model.states(&case).map(|_| ()), Ok(()), "{case:?}");
            gets += case.calls.iter().filter(|c| c.command == 0).count();
        }
        assert!(gets > 0, "no GET was ever generated");
    }

    #[test]
    fn the_state_before_each_command_follows_the_updates() {
        let spec = spec();
        let model = Model::of(&spec.file.scenarios[0].value).unwrap();
        let call = |command, key: &str| Call {
            command,
            env: [("key".to_string(), Value::Bytes(key.as_bytes().to_vec()))].into(),
        };
        let case = SessionCase {
            prelude: Env::new(),
            calls: vec![call(2, "a"), call(0, "a"), call(1, "a"), call(0, "a")],
        };
        assert_eq!(
            model.states(&case),
            Err(ModelError::Refused {
                index: 4,
                name: "GET".into()
            })
        );
        let held: BTreeMap<String, Val> = [("a".to_string(), Val::Int(1))].into();
        let states = model.states(&SessionCase {
            calls: case.calls[..3].to_vec(),
            ..case
        });
        assert_eq!(
            states,
            Ok(vec![
                Val::Map(BTreeMap::new()),
                Val::Map(held.clone()),
                Val::Map(held)
            ])
        );
    }

    #[test]
    fn shrinking_drops_candidates_whose_preconditions_fail_without_playing_them() {
        let spec = spec();
        let scenario = &spec.file.scenarios[0].value;
        let model = Model::of(scenario).unwrap();
        let call = |command, key: &str| Call {
            command,
            env: [("key".to_string(), Value::Bytes(key.as_bytes().to_vec()))].into(),
        };
        let generators = |i: usize| {
            scenario.commands[i]
                .value
                .generate
                .iter()
                .map(|(k, g)| (k.clone(), g.value.clone()))
                .collect()
        };
        let space = Space {
            prelude: BTreeMap::new(),
            commands: (0..3).map(generators).collect(),
            min_commands: 1,
            model: Some(model.clone()),
            barred: Vec::new(),
        };
        // Fails whenever a DEL is played: alone it would be simplest, but its precondition
        // needs a SET before it.
        let original = SessionCase {
            prelude: Env::new(),
            calls: vec![call(2, "b"), call(2, "c"), call(0, "c"), call(1, "c")],
        };
        let mut played = Vec::new();
        let shrunk = shrink(
            &space,
            original,
            (),
            Limits {
                probes: 200,
                time: Duration::from_secs(60),
                reproduced: false,
            },
            &mut |case| {
                played.push(case.clone());
                if case.calls.iter().any(|c| c.command == 1) {
                    Probe::Fail(())
                } else {
                    Probe::Pass
                }
            },
        );
        assert!(played.iter().all(|c| model.admits(c)), "{played:?}");
        let names: Vec<usize> = shrunk.case.calls.iter().map(|c| c.command).collect();
        assert_eq!(names, vec![2, 1]);
        assert_eq!(shrunk.case.calls[0].env, call(2, "a").env);
    }
}
