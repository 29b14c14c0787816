//! A session's model of the server's state: the state before each command, computed from the
//! initial state and each earlier command's `update`, and whether each command's `when`
//! holds there.
//!
//! In: a scenario's `model:` and its commands' `when:` and `update:` (compiled at load time),
//! and a [`SessionCase`]. Out: the state before each command (which its steps see as
//! `state`), or why the case is not one the model allows. Pure: the same case gives the same
//! states everywhere.

use super::{Call, SessionCase};
use crate::expr::{Expr, ExprError, STATE, Val};
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
