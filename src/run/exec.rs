//! The one case executor: every case of every path (a fixed scenario, generated cases and
//! their shrinking probes, the replays of a window) runs through [`Executor::case`].
//!
//! In: a [`Ctx`] (spec, scenario, target, options, default deadline) and, per case, the values
//! to play. Out: `None` for a pass or the case's [`Failure`], with how the program ended and
//! the wire log finished; a [`SetupError`] when conform itself cannot go on. The executor owns
//! the target's life: it starts the program, restarts it between cases as the lifecycle says
//! (or when it died), and stops it, so the feeders (`fuzz`, `window`, `run_one`) only decide
//! which values to play and how many at once.

use std::time::Duration;

use super::SetupError;
use super::options::RunOptions;
use super::script::{Played, Script};
use super::session::{self, Opened, Session};
use super::steps;
use crate::event::{Failure, ProgramReport, StepRef, Wire, WireEntry, WireLog};
use crate::plan::Target;
use crate::spec::{Env, Lifecycle, Role, Scenario, Spec};

/// What every case of one scenario shares.
#[derive(Clone, Copy)]
pub struct Ctx<'a> {
    pub spec: &'a Spec,
    pub scenario: &'a Scenario,
    pub target: &'a Target,
    pub opts: &'a RunOptions,
    /// The deadline of waits that the steps do not bound themselves.
    pub within: Duration,
}

impl<'a> Ctx<'a> {
    pub fn new(
        spec: &'a Spec,
        scenario: &'a Scenario,
        target: &'a Target,
        opts: &'a RunOptions,
    ) -> Self {
        Ctx {
            spec,
            scenario,
            target,
            opts,
            within: session::default_within(spec, scenario, opts),
        }
    }

    /// How long the program lives when many cases run. A client under test runs once per
    /// case by nature: it is the one that starts talking. The in-process reference is a
    /// careful server that serves any number of clients, so it is started once whatever the
    /// spec says.
    pub fn lifecycle(&self) -> Lifecycle {
        match (self.scenario.role, self.target) {
            (Role::Client, _) => Lifecycle::Case,
            // Nothing to restart: the in-process reference serves every client, and conform
            // did not start a server it was told to `--connect` to.
            (Role::Server, Target::Reference | Target::Address(_)) => Lifecycle::Scenario,
            (Role::Server, _) => self.opts.lifecycle.unwrap_or(self.scenario.lifecycle),
        }
    }
}

/// Runs cases against one target, starting and stopping it as the lifecycle says.
pub struct Executor<'a> {
    ctx: Ctx<'a>,
    lifecycle: Lifecycle,
    session: Option<Session>,
    /// Programs of passed cases being stopped on threads of their own (see
    /// [`Executor::stop_passed_in_background`]).
    stopping: Vec<std::thread::JoinHandle<()>>,
    background: bool,
}

impl<'a> Executor<'a> {
    pub fn new(ctx: Ctx<'a>, lifecycle: Lifecycle) -> Self {
        crate::drive::poll::configure(ctx.opts.poll);
        Executor {
            ctx,
            lifecycle,
            session: None,
            stopping: Vec::new(),
            background: false,
        }
    }

    /// Stops the program of a passed case on a thread of its own instead of waiting for it:
    /// a server that takes its time to exit on SIGTERM (Redis checks for it ten times a
    /// second) then costs the next case nothing. Only a passed case's program, whose ending
    /// no report shows, and never with `--port`, whose next case needs the port free.
    pub fn stop_passed_in_background(&mut self) {
        self.background = self.ctx.opts.port.is_none();
    }

    pub fn ctx(&self) -> Ctx<'a> {
        self.ctx
    }

    /// Plays one case: starts the target if none runs (or the last one died), plays the
    /// steps, and stops the target when the lifecycle or a crash says the case was its last.
    pub fn case(
        &mut self,
        env: &Env,
        observe: &mut dyn FnMut(StepRef, bool, Duration),
    ) -> Result<Option<Failure>, SetupError> {
        let script = Script::steps_of(self.ctx.scenario, env.clone());
        Ok(self.play(script, observe)?.failure)
    }

    /// Plays one case whose steps the feeder gives (a session's commands after the
    /// scenario's steps), and hands back what its `same_as_reference` steps read.
    pub fn play(
        &mut self,
        script: Script<'_>,
        observe: &mut dyn FnMut(StepRef, bool, Duration),
    ) -> Result<Played, SetupError> {
        let ctx = self.ctx;
        let session = match self.ready()? {
            Ok(session) => session,
            Err(failure) => return Ok(not_ready(failure)),
        };
        let played = steps::play_script(session, ctx.scenario, ctx.within, script, observe);
        let mut all = [played];
        self.after(&mut all);
        let [played] = all;
        Ok(played)
    }

    /// Plays several clients' scripts at once against one target, each on a thread and
    /// connections of its own, sharing one wire log; their commands start together, after
    /// every client's own steps. Hands back each client's run, in order, and the wire log
    /// when no client's failure took it (a history judged after the case needs it then).
    pub fn play_many(
        &mut self,
        scripts: Vec<Script<'_>>,
    ) -> Result<(Vec<Played>, Option<WireLog>), SetupError> {
        let ctx = self.ctx;
        let session = match self.ready()? {
            Ok(session) => session,
            Err(failure) => return Ok((vec![not_ready(failure)], None)),
        };
        let wire = crate::drive::wire::Recorder::when(session.record_wire);
        let gate = std::sync::Arc::new(super::script::Gate::new(scripts.len()));
        let mut views: Vec<Session> = scripts.iter().map(|_| session.view()).collect();
        let mut played: Vec<Played> = std::thread::scope(|scope| {
            let handles: Vec<_> = scripts
                .into_iter()
                .zip(views.iter_mut())
                .map(|(mut script, view)| {
                    script.together = Some((wire.clone(), gate.clone()));
                    scope.spawn(move || {
                        steps::play_script(
                            view,
                            ctx.scenario,
                            ctx.within,
                            script,
                            &mut |_, _, _| {},
                        )
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                .collect()
        });
        self.after(&mut played);
        let log = played
            .iter()
            .all(|p| p.failure.is_none())
            .then(|| wire.take())
            .flatten();
        Ok((played, log))
    }

    /// The target, restarted first when the lifecycle or its death says so.
    fn ready(&mut self) -> Result<Result<&mut Session, Failure>, SetupError> {
        if let Some(session) = self.session.as_mut()
            && (self.lifecycle == Lifecycle::Case || session.program_ended())
        {
            self.close(false);
        }
        self.session()
    }

    /// After a case: stops the target when the lifecycle or a crash says the case was its
    /// last, and gives the first failure how the program ended.
    fn after(&mut self, played: &mut [Played]) {
        let (lifecycle, background) = (self.lifecycle, self.background);
        let Some(session) = self.session.as_mut() else {
            return;
        };
        let failed = played.iter().any(|p| p.failure.is_some());
        let ended = lifecycle == Lifecycle::Case || (failed && session.program_ended());
        if !ended {
            return;
        }
        if !failed && background {
            self.stop_later();
            return;
        }
        let elapsed = session.wire().elapsed();
        let report = self.close(failed);
        if let Some(f) = played.iter_mut().find_map(|p| p.failure.as_mut()) {
            finish_wire(f, report.as_ref(), elapsed);
            f.program = report;
        }
    }

    /// The running target, started if need be; the failure of one that never became ready.
    pub fn session(&mut self) -> Result<Result<&mut Session, Failure>, SetupError> {
        if self.session.is_none() {
            match session::open(self.ctx.scenario, self.ctx.target, self.ctx.opts)? {
                Opened::Ready(session) => self.session = Some(session),
                Opened::NotReady(failure) => return Ok(Err(failure)),
            }
        }
        Ok(self.session.as_mut().ok_or_else(Failure::default))
    }

    /// Drops the UDP sockets kept from earlier cases: a late reply to an earlier case must
    /// not be taken for the next one's.
    pub fn forget_spares(&mut self) {
        if let Some(session) = self.session.as_mut() {
            session.forget_spares();
        }
    }

    /// Stops the target, if one runs, and says how it ended.
    pub fn close(&mut self, failed: bool) -> Option<ProgramReport> {
        self.session
            .take()
            .and_then(|s| s.close(self.ctx.opts.grace, failed))
    }
}

impl Executor<'_> {
    /// Stops the target after a passed case: on a thread of its own when
    /// [`Executor::stop_passed_in_background`] said so, else at once.
    pub fn retire(&mut self) {
        if self.background {
            self.stop_later();
        } else {
            self.close(false);
        }
    }

    fn stop_later(&mut self) {
        self.stopping.retain(|h| !h.is_finished());
        if let Some(session) = self.session.take() {
            let grace = self.ctx.opts.grace;
            self.stopping.push(std::thread::spawn(move || {
                session.close(grace, false);
            }));
        }
    }
}

impl Drop for Executor<'_> {
    fn drop(&mut self) {
        self.close(false);
        // Bounded: each stop ends by SIGKILL after the grace period.
        for stopping in self.stopping.drain(..) {
            let _ = stopping.join();
        }
    }
}

/// The run of a case whose program never became ready.
fn not_ready(failure: Failure) -> Played {
    Played {
        failure: Some(failure),
        ..Played::default()
    }
}

/// A program still running when the case ended is stopped only after its steps; the
/// case's wire log ends with how.
fn finish_wire(failure: &mut Failure, report: Option<&ProgramReport>, at: Duration) {
    let (Some(log), Some(ending)) = (&mut failure.wire, report.and_then(|r| r.ending.clone()))
    else {
        return;
    };
    if !log
        .entries
        .iter()
        .any(|e| matches!(e.what, Wire::ProgramExit { .. }))
    {
        log.entries.push(WireEntry {
            at,
            what: Wire::ProgramExit { ending },
        });
    }
}
