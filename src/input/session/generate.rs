//! Generating sessions: how many commands, which ones (by weight), and their values, some
//! drawn from the bundles earlier commands of the same session filled, as Hypothesis's
//! stateful tests do, so that a `GET` mostly asks for a key a `SET` stored.
//!
//! In: a session scenario, a [`Rng`] and the values `--with` pins. Out: a [`SessionCase`].
//! The same seed gives the same sessions on every machine.

use std::collections::BTreeMap;

use super::model::{ATTEMPTS, Model};
use super::{Call, SessionCase};
use crate::input::generate::{self, Rng};
use crate::spec::expr::Val;
use crate::spec::{Env, Scenario, Value};

/// A value with a bundle is drawn from it this many times in four, when the bundle holds a
/// value its generator could have made.
const REUSE: u64 = 3;

/// One generated session.
pub fn session(
    rng: &mut Rng,
    scenario: &Scenario,
    pinned: &BTreeMap<String, Value>,
) -> SessionCase {
    session_of(rng, scenario, pinned, false)
}

/// The sessions of several clients at once, one per client: only commands that are not
/// `atomic: false` (another client's requests could come between theirs). Each client's
/// preconditions hold along its own session.
pub fn clients(
    rng: &mut Rng,
    scenario: &Scenario,
    pinned: &BTreeMap<String, Value>,
    clients: usize,
) -> Vec<SessionCase> {
    (0..clients)
        .map(|_| session_of(rng, scenario, pinned, true))
        .collect()
}

fn session_of(
    rng: &mut Rng,
    scenario: &Scenario,
    pinned: &BTreeMap<String, Value>,
    atomic_only: bool,
) -> SessionCase {
    let prelude = generate::case(rng, scenario, pinned);
    let (min, max) = scenario.session_bounds();
    let count = length(rng, min as usize, max as usize);
    let weights: Vec<u64> = scenario
        .commands
        .iter()
        .map(|c| {
            if atomic_only && !c.value.atomic() {
                0
            } else {
                u64::from(c.value.weight())
            }
        })
        .collect();
    let total: u64 = weights.iter().sum();
    let model = Model::of(scenario);
    let mut state = model
        .as_ref()
        .and_then(|m| m.initial().ok())
        .unwrap_or(Val::Unit);
    let mut bundles: BTreeMap<&str, Vec<Value>> = BTreeMap::new();
    let mut calls = Vec::with_capacity(count);
    for _ in 0..count {
        // Without a model the first draw is taken; with one, a draw whose precondition
        // holds, and the session ends where none of a few does.
        let drawn = (0..ATTEMPTS).find_map(|_| {
            let call = draw(rng, scenario, &weights, total, (&bundles, &state));
            let Some(model) = &model else {
                return Some((call, Val::Unit));
            };
            // A rule that fails to evaluate is a fault of the spec: the command is kept, so
            // that playing the session reports it.
            match model.allows(&prelude, &call, &state) {
                Ok(false) => None,
                Ok(true) | Err(_) => {
                    let next = model.next(&prelude, &call, &state);
                    Some((call, next.unwrap_or_else(|_| state.clone())))
                }
            }
        });
        let Some((call, next)) = drawn else { break };
        state = next;
        let command = &scenario.commands[call.command].value;
        for (name, bundle) in &command.bundles {
            if let Some(value) = call.env.get(name) {
                let held = bundles.entry(bundle.value.as_str()).or_default();
                if !held.contains(value) {
                    held.push(value.clone());
                }
            }
        }
        calls.push(call);
    }
    SessionCase { prelude, calls }
}

/// One command, chosen by weight, with its values.
fn draw(
    rng: &mut Rng,
    scenario: &Scenario,
    weights: &[u64],
    total: u64,
    (bundles, state): (&BTreeMap<&str, Vec<Value>>, &Val),
) -> Call {
    let mut pick = rng.below(total.max(1));
    let index = weights
        .iter()
        .position(|w| {
            let here = pick < *w;
            pick = pick.saturating_sub(*w);
            here
        })
        .unwrap_or(0);
    let command = &scenario.commands[index].value;
    let mut env = Env::new();
    for (name, generator) in &command.generate {
        if let Some(code) = command.from_state.get(name)
            && let Some(value) = from_state(rng, &code.value.0, state, &generator.value)
        {
            env.insert(name.clone(), value);
            continue;
        }
        let from_bundle = command
            .bundles
            .get(name)
            .and_then(|b| bundles.get(b.value.as_str()))
            .and_then(|held| {
                let fits: Vec<&Value> = held.iter().filter(|v| generator.value.admits(v)).collect();
                if fits.is_empty() || !rng.chance(REUSE, 4) {
                    return None;
                }
                Some(fits[rng.below(fits.len() as u64) as usize].clone())
            });
        let value = from_bundle.unwrap_or_else(|| generate::value(rng, &generator.value));
        env.insert(name.clone(), value);
    }
    Call {
        command: index,
        env,
    }
}

/// A value drawn from what `expr` gives in `state` (a list, or a map's keys), three times
/// in four when it gives something the generator admits.
fn from_state(
    rng: &mut Rng,
    expr: &crate::spec::expr::Expr,
    state: &Val,
    generator: &crate::spec::Generator,
) -> Option<Value> {
    let mut env = crate::spec::Env::new();
    env.insert(
        crate::spec::expr::STATE.to_string(),
        Value::Model(state.clone()),
    );
    // An expression that fails draws nothing: the generator makes the value.
    let items = match expr.eval(&env).ok()? {
        Val::List(items) => items,
        Val::Map(map) => map.into_keys().map(Val::Text).collect(),
        other => vec![other],
    };
    let fits: Vec<Value> = items
        .iter()
        .filter_map(|item| as_value(item, generator))
        .filter(|v| generator.admits(v))
        .collect();
    if fits.is_empty() || !rng.chance(REUSE, 4) {
        return None;
    }
    Some(fits[rng.below(fits.len() as u64) as usize].clone())
}

/// A model value as a generated one of this generator's kind.
fn as_value(item: &Val, generator: &crate::spec::Generator) -> Option<Value> {
    match (item, generator) {
        (Val::Int(n), crate::spec::Generator::Number { width, .. }) => Some(Value::Number {
            value: u64::try_from(*n).ok()?,
            width: *width,
        }),
        (_, crate::spec::Generator::Number { .. }) => None,
        (item, _) => item.to_bytes().map(Value::Bytes),
    }
}

/// How many commands: one session in six the fewest, one in six the most, else uniform.
fn length(rng: &mut Rng, min: usize, max: usize) -> usize {
    match rng.below(6) {
        0 => min,
        1 => max,
        _ => rng.between(min, max),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: &str = "scenarios:
  - name: kv
    role: server
    transport: tcp
    session: {max_commands: 8}
    steps:
      - connect
    commands:
      - name: SET
        weight: 3
        generate:
          key: {text: {chars: 'a-z', min_length: 1, max_length: 6}}
          value: {bytes: {max_length: 4}}
        bundles: {key: keys}
        steps:
          - send: {concat: [\"SET \", {var: key}, \"\\n\"]}
      - name: GET
        generate:
          key: {text: {chars: 'a-z', min_length: 1, max_length: 6}}
        bundles: {key: keys}
        steps:
          - send: {concat: [\"GET \", {var: key}, \"\\n\"]}
";

    fn scenario() -> crate::spec::Spec {
        crate::spec::load_str("kv.yaml", SPEC).unwrap()
    }

    fn sessions(seed: u64, n: usize) -> Vec<SessionCase> {
        let spec = scenario();
        let s = &spec.file.scenarios[0].value;
        let mut rng = Rng::new(seed);
        (0..n)
            .map(|_| session(&mut rng, s, &BTreeMap::new()))
            .collect()
    }

    #[test]
    fn sessions_have_between_one_and_max_commands_and_reach_both_ends() {
        let all = sessions(1, 200);
        assert!(all.iter().all(|s| (1..=8).contains(&s.calls.len())));
        assert!(all.iter().any(|s| s.calls.len() == 1));
        assert!(all.iter().any(|s| s.calls.len() == 8));
    }

    #[test]
    fn weights_make_heavier_commands_more_frequent() {
        let calls: Vec<usize> = sessions(2, 200)
            .iter()
            .flat_map(|s| s.calls.iter().map(|c| c.command))
            .collect();
        let sets = calls.iter().filter(|c| **c == 0).count();
        let gets = calls.len() - sets;
        assert!(sets > 2 * gets, "{sets} SET, {gets} GET");
    }

    #[test]
    fn most_gets_ask_for_a_key_an_earlier_command_stored() {
        let mut asked = 0;
        let mut known = 0;
        for s in sessions(3, 200) {
            let mut seen: Vec<&Value> = Vec::new();
            for call in &s.calls {
                let key = &call.env["key"];
                if call.command == 1 && !seen.is_empty() {
                    asked += 1;
                    known += usize::from(seen.contains(&key));
                }
                seen.push(key);
            }
        }
        assert!(
            known * 3 > asked * 2,
            "{known} of {asked} GETs hit a stored key"
        );
    }

    #[test]
    fn the_same_seed_gives_the_same_sessions() {
        assert_eq!(sessions(9, 20), sessions(9, 20));
        assert_ne!(sessions(9, 20), sessions(10, 20));
    }

    /// The model holds the keys SET stored (and DEL removed); DEL draws from them.
    const FROM_STATE: &str = "scenarios:
  - name: kv
    role: server
    transport: tcp
    session: {max_commands: 8}
    model: {initial: '#{}'}
    steps:
      - connect
    commands:
      - name: SET
        generate:
          key: {text: {chars: 'a-z', min_length: 6, max_length: 6}}
        steps:
          - send: {concat: [\"SET \", {var: key}, \"\\n\"]}
        update: 'let s = state; s[key] = 1; s'
      - name: DEL
        generate:
          key: {text: {chars: 'a-z', min_length: 6, max_length: 6}}
        from_state: {key: 'state.keys()'}
        steps:
          - send: {concat: [\"DEL \", {var: key}, \"\\n\"]}
        update: 'let s = state; s.remove(key); s'
";

    #[test]
    fn values_drawn_from_the_state_are_keys_the_model_holds() {
        let spec = crate::spec::load_str("kv.yaml", FROM_STATE).unwrap();
        let s = &spec.file.scenarios[0].value;
        let model = Model::of(s).unwrap();
        let mut rng = Rng::new(5);
        let (mut dels, mut held) = (0, 0);
        for _ in 0..200 {
            let case = session(&mut rng, s, &BTreeMap::new());
            let states = model.states(&case).unwrap();
            for (call, state) in case.calls.iter().zip(&states) {
                let Val::Map(map) = state else {
                    panic!("{state:?}")
                };
                if call.command == 1 && !map.is_empty() {
                    dels += 1;
                    let key = String::from_utf8(call.env["key"].bytes().to_vec()).unwrap();
                    held += usize::from(map.contains_key(&key));
                }
            }
        }
        // Six random letters would hit a stored key about never; drawn from the state,
        // three DELs in four do.
        assert!(dels > 50, "{dels}");
        assert!(
            held * 10 > dels * 6,
            "{held} of {dels} DELs name a held key"
        );
        assert!(held < dels, "some DELs are still generated afresh");
    }

    #[test]
    fn from_state_is_refused_without_a_model_or_for_a_value_not_generated() {
        let no_model = FROM_STATE
            .replace("    model: {initial: '#{}'}\n", "")
            .replace("        update: 'let s = state; s[key] = 1; s'\n", "")
            .replace("        update: 'let s = state; s.remove(key); s'\n", "");
        let err = crate::spec::load_str("kv.yaml", &no_model)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`from_state` draws values from the model's state"),
            "{err}"
        );
        let other = FROM_STATE.replace("from_state: {key:", "from_state: {name:");
        let err = crate::spec::load_str("kv.yaml", &other)
            .unwrap_err()
            .to_string();
        assert!(err.contains("kv.yaml:19:"), "{err}");
        assert!(
            err.contains("`from_state` names `name`, which this command does not generate"),
            "{err}"
        );
        let reads = FROM_STATE.replace("'state.keys()'", "'key'");
        let err = crate::spec::load_str("kv.yaml", &reads)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("reads `key`: it is computed before the command's values"),
            "{err}"
        );
    }
}
