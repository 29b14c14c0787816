//! `--report html=PATH`: the page is self-contained and renders in a real browser. Headless
//! Chromium loads each report from a real run and the tests read the DOM it rendered; a
//! screenshot shows it drew something.

mod common;

use std::path::Path;
use std::time::Duration;

use common::{conform, fixture, run_tool, stderr};

/// Longest a run here may take; the fixtures fail in milliseconds, shrinking in a second.
const RUN_LIMIT: Duration = Duration::from_secs(180);

/// A browser start is seconds, even on a loaded machine; more means it hangs.
const BROWSER_LIMIT: Duration = Duration::from_secs(120);

/// Runs conform with `--report html=...` and returns the page.
fn report(dir: &Path, args: &[&str], server: &str) -> String {
    let page = dir.join("report.html");
    let output = conform()
        .args(args)
        .arg("--server")
        .arg(server)
        .arg("--report")
        .arg(format!("html={}", page.display()))
        .timeout(RUN_LIMIT)
        .output()
        .expect("conform runs");
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    std::fs::read_to_string(&page).expect("the report was written")
}

/// Chromium with everything that could reach the network switched off, in its own profile.
fn chromium(dir: &Path, extra: &[&str], page: &Path) -> std::process::Output {
    let profile = format!("--user-data-dir={}", dir.join("profile").display());
    let mut args = vec![
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        profile.as_str(),
    ];
    args.extend_from_slice(extra);
    let url = page.to_str().expect("UTF-8 path");
    args.push(url);
    let output = run_tool("chromium", "chromium", &args, BROWSER_LIMIT);
    assert!(
        output.status.success(),
        "chromium failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// The DOM Chromium built from the page.
fn rendered(dir: &Path, html: &str) -> String {
    let page = dir.join("page.html");
    std::fs::write(&page, html).expect("write page");
    let output = chromium(dir, &["--dump-dom"], &page);
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn assert_self_contained(html: &str) {
    let lower = html.to_lowercase();
    for banned in [
        "<script", "<link", "@import", "url(", "http://", "https://", "src=",
    ] {
        assert!(!lower.contains(banned), "the page contains `{banned}`");
    }
}

#[test]
fn tcp_report_renders_with_every_verdict_the_diagnosis_and_the_wire_log() {
    let dir = tempfile::tempdir().expect("temp dir");
    let html = report(
        dir.path(),
        &["run", "specs/tcp.yaml"],
        &fixture("rust/tcp_server_extra_line"),
    );
    assert_self_contained(&html);
    let dom = rendered(dir.path(), &html);
    assert!(dom.contains("<h1>conform report</h1>"), "{dom}");
    // Every verdict has a symbol and a word, so none depends on colour.
    for badge in ["✗ FAIL", "✓ PASS", "! WARN", "– SKIP"] {
        assert!(dom.contains(badge), "no {badge}");
    }
    assert!(dom.contains("a client scenario, and no --client was given"));
    // The failing case: linked from the list, with the terminal's diagnosis.
    let section = dom
        .split("<section class=\"case fail\"")
        .nth(1)
        .expect("a failing case section");
    assert!(dom.contains("href=\"#case-0\""));
    assert!(section.contains("server greets with Hello World"));
    assert!(section.contains("expected the connection to close, but 4 more byte(s) arrived"));
    assert!(section.contains("000000  62 79 65 0a"));
    assert!(section.contains(": exited with code 0"));
    // Its wire log: the connection, the bytes as text and hex, the way they went.
    assert!(section.contains("connect  conform 127.0.0.1:"));
    assert!(section.contains("← from program"));
    assert!(section.contains("\"Hello World!\\n"));
    assert!(section.contains("48 65 6c 6c 6f 20 57 6f 72 6c 64 21 0a"));
    assert!(section.contains("exit     the program exited with code 0"));
    // A warning gets its own section too.
    assert!(dom.contains("<section class=\"case warn\""));
}

#[test]
fn generated_failure_shows_the_minimal_counterexample_and_its_replay_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let html = report(
        dir.path(),
        &[
            "run",
            "specs/udp-sizes.yaml",
            "--seed",
            "1",
            "--cases",
            "40",
        ],
        &fixture("rust/udp_server_drop_last_byte"),
    );
    assert_self_contained(&html);
    let dom = rendered(dir.path(), &html);
    let section = dom
        .split("<section class=\"case fail\"")
        .nth(1)
        .expect("a failing case section");
    assert!(
        section.contains("<h3>Minimal counterexample</h3>"),
        "{section}"
    );
    assert!(section.contains("payload = "), "{section}");
    let replay = section
        .split("<pre class=\"replay\">")
        .nth(1)
        .and_then(|rest| rest.split("</pre>").next())
        .expect("a replay line");
    assert!(
        replay.starts_with("conform run specs/udp-sizes.yaml --server "),
        "{replay}"
    );
    assert!(replay.contains("--seed 1 --with payload=hex:"), "{replay}");
    assert!(section.contains("→ to program"));
    assert!(section.contains("byte datagram udp"));
}

#[test]
fn chromium_draws_the_page() {
    let dir = tempfile::tempdir().expect("temp dir");
    let html = report(
        dir.path(),
        &["run", "specs/tcp.yaml"],
        &fixture("rust/tcp_server_extra_line"),
    );
    let page = dir.path().join("page.html");
    std::fs::write(&page, html).expect("write page");
    let shot = dir.path().join("shot.png");
    let flag = format!("--screenshot={}", shot.display());
    chromium(
        dir.path(),
        &[&flag, "--window-size=1280,1600", "--hide-scrollbars"],
        &page,
    );
    let png = std::fs::read(&shot).expect("chromium wrote the screenshot");
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    // A blank page of this size compresses to a few KiB; text, tables and badges do not.
    assert!(
        png.len() > 40_000,
        "{} bytes: the page looks empty",
        png.len()
    );
}

#[test]
fn a_history_of_several_clients_renders_one_timeline_per_client() {
    let dir = tempfile::tempdir().unwrap();
    let server = format!(
        "{} fixtures/python/mini_redis.py {{port}} --defect incr-unlocked",
        common::redis::python()
    );
    let html = report(
        dir.path(),
        &[
            "run",
            "tests/data/clients/counter.yaml",
            "--clients",
            "3",
            "--seed",
            "1",
        ],
        &server,
    );
    assert_self_contained(&html);
    let dom = rendered(dir.path(), &html);
    assert!(
        dom.contains("<h3>Smallest failing history found: one timeline per client</h3>"),
        "{dom}"
    );
    assert_eq!(
        dom.matches("<table class=\"session history\"").count(),
        2,
        "{dom}"
    );
    assert!(dom.contains("<caption>client 1</caption>"), "{dom}");
    assert!(dom.contains("<caption>client 2</caption>"), "{dom}");
    assert_eq!(
        dom.matches("<span class=\"mark\">no order explains this reply</span>")
            .count(),
        1,
        "{dom}"
    );
    assert_eq!(
        dom.matches("<div class=\"bar\"><span style=\"left:")
            .count(),
        2,
        "{dom}"
    );
    assert!(
        dom.contains("then none of these can come next: client"),
        "{dom}"
    );
    assert!(
        dom.contains("(the model expects <code>\":2\\r\\n\"</code>)"),
        "{dom}"
    );
}
