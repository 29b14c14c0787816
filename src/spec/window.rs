//! What a window of requests in flight sends and expects, decided when the spec is loaded.
//!
//! In: a scenario. Out: a [`WindowPlan`], the one shape a window can run exactly as the
//! sequential path would (`connect`, `send`, `expect` with computed bytes, on a generated UDP
//! server scenario), or the location of the first thing it could not honour and what to
//! change. The window then runs the plan and nothing else, so no step key is dropped.

use std::time::Duration;

use serde_saphyr::Location;

use super::data::Data;
use super::model::{Expected, Generator, Role, Scenario, Send, Step, Transport};

/// One request of a window and the reply it must get.
#[derive(Debug, Clone)]
pub struct WindowPlan {
    /// The bytes each request sends, from the case's values.
    pub send: Data,
    /// `truncate`: only the first this many bytes are sent (as the sequential path does).
    pub truncate: Option<usize>,
    /// The bytes the reply must be exactly.
    pub reply: Data,
    /// The `expect` step's own deadline, when it has one.
    pub within: Option<Duration>,
}

/// The window's plan for `scenario`, or where and why it cannot keep requests in flight.
pub fn window_plan(scenario: &Scenario) -> Result<WindowPlan, (Location, String)> {
    let shape = "`window` needs a generated UDP server scenario of exactly `connect`, `send` and \
                 `expect` with computed bytes (replies are matched to requests by content)";
    let first = scenario
        .steps
        .first()
        .map_or(scenario.name.referenced, |s| s.referenced);
    if scenario.role != Role::Server || scenario.transport != Transport::Udp {
        return Err((scenario.name.referenced, shape.to_string()));
    }
    if !scenario.is_generated() {
        return Err((
            scenario.name.referenced,
            format!("{shape}; this one has no `generate`"),
        ));
    }
    let [connect, send, expect] = scenario.steps.as_slice() else {
        return Err((
            first,
            format!("{shape}; this one has {} step(s)", scenario.steps.len()),
        ));
    };
    let Step::Connect(open) = &connect.value else {
        return Err((
            connect.referenced,
            format!("{shape}; the first step must be `connect`"),
        ));
    };
    if open.name.is_some() {
        return Err((
            connect.referenced,
            "`window` opens its own socket: drop `as` here".into(),
        ));
    }
    let Step::Send(send_step) = &send.value else {
        return Err((
            send.referenced,
            format!("{shape}; the second step must be `send`"),
        ));
    };
    let Step::Expect(expect_step) = &expect.value else {
        return Err((
            expect.referenced,
            format!("{shape}; the third step must be `expect`"),
        ));
    };
    honoured_faults(send_step, send.referenced)?;
    if let Data::Var(name) = &send_step.data
        && matches!(
            scenario.generate.get(name).map(|g| &g.value),
            Some(Generator::Split { .. })
        )
    {
        return Err((
            send.referenced,
            format!(
                "`window` sends one datagram per request, and `{name}` is a `split` value (several datagrams); drop `window`"
            ),
        ));
    }
    if send_step.on.is_some() || expect_step.on.is_some() {
        return Err((
            expect.referenced,
            "`window` uses one socket: drop `on` here".into(),
        ));
    }
    if expect_step.capture.is_some() {
        return Err((
            expect.referenced,
            "`window` does not keep what a reply captures: drop `capture` or `window`".into(),
        ));
    }
    let Expected::Bytes(reply) = &expect_step.matcher else {
        return Err((
            expect.referenced,
            format!("{shape}; this `expect` is a matcher, not computed bytes"),
        ));
    };
    Ok(WindowPlan {
        send: send_step.data.clone(),
        truncate: send_step.faults.truncate,
        reply: reply.clone(),
        within: expect_step.within.map(|d| d.get()),
    })
}

/// Refuses the send faults a window cannot run as the sequential path would.
fn honoured_faults(send: &Send, at: Location) -> Result<(), (Location, String)> {
    let faults = &send.faults;
    let unsupported: Vec<&str> = [
        (faults.drop, "drop"),
        (faults.duplicate.is_some(), "duplicate"),
        (faults.delay.is_some(), "delay"),
        (faults.from_other_port, "from_other_port"),
    ]
    .into_iter()
    .filter_map(|(set, name)| set.then_some(name))
    .collect();
    if !unsupported.is_empty() {
        return Err((
            at,
            format!(
                "`window` cannot honour `{}` here: with requests in flight a lost, repeated, late or \
                 stray datagram cannot be told from the server's doing; drop `window` to test this \
                 fault one case at a time",
                unsupported.join("`, `")
            ),
        ));
    }
    Ok(())
}
