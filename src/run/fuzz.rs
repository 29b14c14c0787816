//! Generated scenarios: many cases from a seed, fed one at a time to the [`Executor`] (or, for
//! stateless UDP services, many at once through the window), and a failure settled.
//!
//! In: a [`Ctx`], the run's seed and the values `--with` pins. Out: how many cases ran and, on
//! failure, the [`Failure`] of the minimal case with the original and minimal inputs, how
//! shrinking ended and a command line that replays it. Values come from [`generate`], the
//! search from `settle`; this module only decides which values each case plays.

use std::collections::BTreeMap;
use std::time::Instant;

use super::SetupError;
use super::exec::{Ctx, Executor};
use super::feed::{Feed, Fuzzed, budget};
use super::options::{DEFAULT_CASES, RunOptions};
use super::settle::{Found, settle};
use super::window;
use crate::drive::template::{join, quote};
use crate::event::{CutShort, Tick};
use crate::input::generate::{self, Rng};
use crate::input::regress;
use crate::input::shrink;
use crate::plan::Target;
use crate::spec::data::{DataError, decode_value};
use crate::spec::{Generator, Lifecycle, Role, Scenario, Value};

/// A `--with NAME=VALUE` that pins nothing: `text` is the value as given, or as read from
/// `@FILE`.
#[derive(Debug, thiserror::Error)]
pub enum WithError {
    #[error("--with {name}=@{}: cannot read {}: {source}", path.display(), path.display())]
    Read {
        name: String,
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("--with {name}={text}: {source} (in scenario `{scenario}`)")]
    Value {
        name: String,
        text: String,
        scenario: String,
        /// Boxed: the run's errors stay small.
        #[source]
        source: Box<DataError>,
    },
    #[error(
        "--with {name}={text}: the value is not one the generator of `{name}` in scenario \
         `{scenario}` makes (check its length, characters or range)"
    )]
    NotMade {
        name: String,
        text: String,
        scenario: String,
    },
    #[error(
        "--with {name}={text}: no selected scenario generates values; `--with` pins the values \
         of generated scenarios"
    )]
    NothingGenerated { name: String, text: String },
    #[error(
        "--with {name}={text}: no selected scenario generates `{name}`; the generated values \
         are: {}",
        known.join(", ")
    )]
    NotGenerated {
        name: String,
        text: String,
        known: Vec<String>,
    },
}

impl WithError {
    /// `--with` is the user's text, and a file it names is the user's to give.
    pub fn exit_code(&self) -> i32 {
        crate::exit::USAGE
    }
}

/// Resolves `--with NAME=VALUE` for this scenario. Names it does not generate are left to the
/// run to check: the flag applies to every selected scenario.
pub fn overrides(
    scenario: &Scenario,
    with: &[(String, String)],
) -> Result<BTreeMap<String, Value>, WithError> {
    let mut out = BTreeMap::new();
    for (name, text) in with {
        if let Some(g) = scenario.generate.get(name) {
            let text = &value_text(name, text)?;
            let (base, width) = match &g.value {
                Generator::Split { data, .. } => (Some(data.as_slice()), None),
                Generator::Number { width, .. } | Generator::Signed { width, .. } => {
                    (None, Some(*width))
                }
                _ => (None, None),
            };
            let value = decode_value(text, base, width).map_err(|source| WithError::Value {
                name: name.clone(),
                text: text.clone(),
                scenario: scenario.name.value.clone(),
                source: Box::new(source),
            })?;
            if !g.value.admits(&value) {
                return Err(WithError::NotMade {
                    name: name.clone(),
                    text: text.clone(),
                    scenario: scenario.name.value.clone(),
                });
            }
            out.insert(name.clone(), value);
        }
    }
    Ok(out)
}

/// Longest file `--with NAME=@FILE` reads: a datagram's worth of hex many times over.
const WITH_FILE_LIMIT: u64 = 16 << 20;

/// The text of a `--with` value: as given, or read from the file `@FILE` names (a replay line
/// writes long values to such files).
fn value_text(name: &str, text: &str) -> Result<String, WithError> {
    let Some(path) = text.strip_prefix('@') else {
        return Ok(text.to_string());
    };
    let read = std::fs::File::open(path).and_then(|file| {
        let mut contents = String::new();
        std::io::Read::read_to_string(
            &mut std::io::Read::take(file, WITH_FILE_LIMIT),
            &mut contents,
        )?;
        Ok(contents)
    });
    match read {
        Ok(contents) => Ok(contents.trim_end().to_string()),
        Err(source) => Err(WithError::Read {
            name: name.to_string(),
            path: path.into(),
            source,
        }),
    }
}

/// The cases a generated scenario runs: one when every value is pinned.
pub fn planned_cases(
    scenario: &Scenario,
    opts: &RunOptions,
    pinned: &BTreeMap<String, Value>,
) -> u32 {
    if generate::all_pinned(scenario, pinned) {
        1
    } else {
        opts.cases
            .or(scenario.cases.as_ref().map(|c| c.value))
            .unwrap_or(DEFAULT_CASES)
    }
}

/// Runs a generated scenario: through the window when it asks for several requests in flight
/// and can have them, else one case at a time; saves the minimal case when asked.
pub fn generated(
    ctx: Ctx<'_>,
    seed: u64,
    pinned: &BTreeMap<String, Value>,
    progress: &mut dyn FnMut(Tick),
) -> Result<Fuzzed, SetupError> {
    let feed = Feed {
        seed,
        pinned,
        replay_base: replay_base(ctx),
        planned: planned_cases(ctx.scenario, ctx.opts, pinned),
        // Beside the regression specs when they are saved; else where temporary files go.
        replay_dir: Some(
            ctx.opts
                .save_failures
                .clone()
                .unwrap_or_else(|| std::env::temp_dir().join("conform-replay")),
        ),
    };
    let window = ctx
        .opts
        .window
        .or(ctx.scenario.window.as_ref().map(|w| w.value as usize))
        .unwrap_or(1);
    // Several requests in flight need one long-running server: a program restarted for
    // every case (the default for external programs) is fuzzed one case at a time.
    let persistent = ctx.lifecycle() == Lifecycle::Scenario;
    let plan = crate::spec::window::window_plan(ctx.scenario).ok();
    let mut fuzzed = match plan {
        Some(plan) if window > 1 && persistent && !generate::all_pinned(ctx.scenario, pinned) => {
            window::windowed(ctx, &feed, &plan, window)?
        }
        _ => sequential(ctx, &feed, progress)?,
    };
    if let (Some(dir), Some(f), Some(env)) = (
        &ctx.opts.save_failures,
        fuzzed.failure.as_mut(),
        &fuzzed.minimal,
    ) {
        // Implementations of a matrix share the seed, so their files would share names.
        let dir = match &ctx.opts.implementation {
            Some(implementation) => dir.join(implementation),
            None => dir.clone(),
        };
        regress::save(&dir, ctx.spec, ctx.scenario, env, f).map_err(|message| {
            SetupError::Save {
                dir,
                message: message.to_string(),
            }
        })?;
    }
    Ok(fuzzed)
}

/// Generated cases one at a time, then the first failure settled.
fn sequential(
    ctx: Ctx<'_>,
    feed: &Feed<'_>,
    progress: &mut dyn FnMut(Tick),
) -> Result<Fuzzed, SetupError> {
    let mut executor = Executor::new(ctx, ctx.lifecycle());
    let budget = budget(ctx.scenario, ctx.opts);
    let planned = u64::from(feed.planned);
    let mut rng = Rng::new(feed.seed);
    let started = Instant::now();
    let mut ran = 0u64;
    let mut cut_short = None;
    let mut found = None;
    while ran < planned && !crate::os::cleanup::is_interrupted() {
        if ran > 0 && started.elapsed() >= budget {
            cut_short = Some(CutShort { planned, budget });
            break;
        }
        let env = generate::case(&mut rng, ctx.scenario, feed.pinned);
        ran += 1;
        let failure = executor.case(&env, &mut |_, _, _| {})?;
        progress(Tick::Case {
            done: ran,
            planned,
            failed: failure.is_some(),
        });
        if let Some(failure) = failure {
            found = Some(Found {
                case: ran,
                elapsed: started.elapsed(),
                env,
                failure,
                reproduced: false,
            });
            break;
        }
    }
    let Some(found) = found else {
        executor.close(false);
        return Ok(Fuzzed {
            cases: ran,
            failure: None,
            minimal: None,
            cut_short,
            window: None,
        });
    };
    let mut probes = 0;
    let mut setup = None;
    let settled = settle(ctx.scenario, feed.pinned, ctx.opts, found, &mut |env| {
        if crate::os::cleanup::is_interrupted() {
            return Err(());
        }
        executor.forget_spares();
        probes += 1;
        let failure = executor.case(env, &mut |_, _, _| {});
        progress(Tick::Probe {
            done: probes,
            size: shrink::key(env).0,
        });
        failure.map_err(|e| setup = Some(e))
    });
    let leftover = executor.close(true);
    if let Some(e) = setup {
        return Err(e);
    }
    let (env, mut failure) = settled.finish(feed, ctx.scenario);
    if failure.program.is_none() {
        failure.program = leftover;
    }
    Ok(Fuzzed {
        cases: ran,
        failure: Some(failure),
        minimal: env,
        cut_short,
        window: None,
    })
}

/// The start of a command line that runs this scenario against the same target again.
pub(super) fn replay_base(ctx: Ctx<'_>) -> String {
    let opts = ctx.opts;
    let mut line = format!("conform run {}", quote(&ctx.spec.path));
    match ctx.target {
        Target::Reference => {}
        Target::Program(words) => {
            let flag = match ctx.scenario.role {
                Role::Server => "--server",
                Role::Client => "--client",
            };
            line.push_str(&format!(" {flag} {}", quote(&join(words))));
        }
        Target::Address(addr) => line.push_str(&format!(" --connect {addr}")),
    }
    if let Some(lifecycle) = opts.lifecycle {
        line.push_str(&format!(" --lifecycle {lifecycle}"));
    }
    if opts.ip.is_ipv6() {
        line.push_str(" --ip 6");
    }
    if let Some(port) = opts.port {
        line.push_str(&format!(" --port {port}"));
    }
    line
}

/// A random seed when the user gave none.
pub fn random_seed() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    // SplitMix64 of the time and the process id: distinct, well-mixed seeds.
    let mut z = (nanos ^ u64::from(std::process::id())).wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    #[test]
    fn an_unreadable_with_file_is_a_usage_error_with_the_io_error_as_source() {
        let err = value_text("payload", "@/nonexistent/conform-with").unwrap_err();
        assert!(
            err.to_string().starts_with(
                "--with payload=@/nonexistent/conform-with: cannot read /nonexistent/conform-with: "
            ),
            "{err}"
        );
        assert!(err.source().is_some_and(|s| s.is::<std::io::Error>()));
        let setup = SetupError::from(err);
        assert_eq!(setup.exit_code(), crate::exit::USAGE);
        assert!(setup.source().is_some_and(|s| s.is::<std::io::Error>()));
    }
}
