//! conform used from Rust: the shipped specs, run through `conform::api`, give typed
//! verdicts against the reference, an in-process server and a fixture program.

mod common;

use std::net::{TcpListener, UdpSocket};
use std::path::Path;

use conform::api::{self, Error, RunOptions, ScenarioResult, SpecInput, Target};
use conform::event::Verdict;
use conform::reference::{Serve, Shutdown, tcp_server, udp_server};
use rstest::rstest;

fn options() -> RunOptions {
    RunOptions {
        cases: Some(8),
        shrink_time: std::time::Duration::from_secs(2),
        ..RunOptions::default()
    }
}

fn run(spec: &str, target: &Target) -> Vec<ScenarioResult> {
    let path = common::root().join(spec);
    api::check(SpecInput::Path(&path), target, &options()).unwrap_or_else(|e| panic!("{e}"))
}

fn verdict<'a>(results: &'a [ScenarioResult], name: &str) -> &'a Verdict {
    &results
        .iter()
        .find(|r| r.name == name)
        .unwrap_or_else(|| panic!("no scenario `{name}`"))
        .verdict
}

#[rstest]
#[case("specs/tcp.yaml")]
#[case("specs/udp.yaml")]
#[case("specs/udp-sizes.yaml")]
fn shipped_specs_pass_against_the_reference(#[case] spec: &str) {
    let results = run(spec, &Target::Reference);
    assert!(!results.is_empty());
    for r in &results {
        assert_eq!(r.verdict, Verdict::Pass, "{} :: {}", r.file, r.name);
        assert!(r.file.ends_with(spec));
    }
}

#[test]
fn results_come_in_spec_order() {
    let results = run("specs/udp.yaml", &Target::Reference);
    let spec = conform::spec::load_file(&common::root().join("specs/udp.yaml")).unwrap();
    let names: Vec<&str> = spec
        .file
        .scenarios
        .iter()
        .map(|s| s.value.name.value.as_str())
        .collect();
    let got: Vec<&str> = results.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(got, names);
}

#[rstest]
#[case::reversal("server reverses 8 bytes")]
#[case::text("server reverses text bytes")]
fn echo_fixture_fails_the_reversal_at_the_expect_step(#[case] name: &str) {
    let server = common::fixture("python/udp_server_echo.py");
    let results = run("specs/udp.yaml", &Target::Server(server));
    let Verdict::Fail(failure) = verdict(&results, name) else {
        panic!("{name}: {:?}", verdict(&results, name));
    };
    assert_eq!(failure.step.as_ref().map(|s| s.keyword), Some("expect"));
    assert!(matches!(
        verdict(
            &results,
            "client sends 1 to 8 and prints the reversed vector"
        ),
        Verdict::Skip(_)
    ));
}

#[test]
fn an_in_process_tcp_server_passes_the_greeting() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let stop = Shutdown::new();
    let server = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            tcp_server(listener, Serve::Forever, &mut std::io::sink(), &stop)
        })
    };
    let results = run("specs/tcp.yaml", &Target::Address(addr));
    stop.trigger();
    server.join().unwrap().unwrap();
    assert_eq!(
        verdict(&results, "server greets with Hello World"),
        &Verdict::Pass
    );
}

#[test]
fn an_in_process_udp_server_passes_the_reversal() {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = socket.local_addr().unwrap();
    let stop = Shutdown::new();
    let server = {
        let stop = stop.clone();
        std::thread::spawn(move || udp_server(socket, Serve::Forever, &mut std::io::sink(), &stop))
    };
    let results = run("specs/udp.yaml", &Target::Address(addr));
    stop.trigger();
    server.join().unwrap().unwrap();
    for name in ["server reverses 8 bytes", "server reverses any 8 bytes"] {
        assert_eq!(verdict(&results, name), &Verdict::Pass, "{name}");
    }
}

#[test]
fn spec_text_errors_and_bad_commands_are_typed_errors() {
    let text = "scenarios:\n  - name: x\n    role: server\n    transport: tcp\n    stpes: []\n";
    let err = api::check(
        SpecInput::Text {
            name: "inline.yaml",
            text,
        },
        &Target::Reference,
        &options(),
    )
    .unwrap_err();
    let Error::Spec(spec_error) = &err else {
        panic!("{err}");
    };
    assert_eq!(
        (spec_error.path.as_str(), spec_error.line),
        ("inline.yaml", 5)
    );
    let spec = SpecInput::Path(Path::new("specs/tcp.yaml"));
    let err = api::check(spec, &Target::Server("a | b".into()), &options()).unwrap_err();
    assert!(matches!(err, Error::Command { .. }), "{err}");
    assert_eq!(err.exit_code(), conform::exit::USAGE);
    assert!(std::error::Error::source(&err).is_some(), "{err}");
}
