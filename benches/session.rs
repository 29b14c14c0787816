//! Sessions side by side with Hypothesis's stateful testing, and how many sessions a second.
//!
//! `cargo bench --bench session` hunts each defect planted in the Redis clone
//! (`fixtures/python/mini_redis.py --defect NAME`) twice: with conform and
//! `specs/examples/redis-session.yaml`, and with a Hypothesis `RuleBasedStateMachine` written
//! for the same job (`benches/redis_machine.py`), both comparing every reply with
//! redis-server and both starting the two servers afresh for every session. For each it prints
//! the time to the first failing session, the commands of the shrunk one and the whole run's
//! time; then the lines of the spec against the lines of the harness; then sessions per second
//! with a reference (every reply compared with redis-server) and without (fixed
//! expectations), with the programs started for every session and started once.
//!
//! Times depend on the machine; found/not found, the shrunk lengths and the line counts do
//! not. Needs `redis-server`, and Python's `hypothesis` for its column. Set
//! `CONFORM_BENCH_QUICK=1` for one seed and fewer sessions.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

const SPEC: &str = "specs/examples/redis-session.yaml";
const REDIS: &str = "redis-server --port {port} --bind 127.0.0.1 --save '' --appendonly no";
const DEFECTS: [&str; 6] = [
    "overwrite-keeps-tail",
    "del-keeps",
    "pipeline-drops",
    "incr-wraps-32",
    "append-missing-fails",
    "bulk-splits-crlf",
];

/// A session spec of the same commands' shape with fixed expectations: no reference needed.
const FIXED: &str = r#"version: 1
scenarios:
  - name: sets and pings
    role: server
    transport: tcp
    session: {max_commands: 12}
    steps:
      - connect
    commands:
      - name: PING
        steps:
          - send: "*1\r\n$4\r\nPING\r\n"
          - expect: "+PONG\r\n"
      - name: SET
        generate:
          key: {text: {chars: "a-c", min_length: 1, max_length: 2}}
          value: {text: {chars: 'a-c\r\n\x00\xff', max_length: 12}}
        steps:
          - send:
              concat: ["*3\r\n$3\r\nSET\r\n$", {decimal: {length_of: key}}, "\r\n", {var: key},
                       "\r\n$", {decimal: {length_of: value}}, "\r\n", {var: value}, "\r\n"]
          - expect: "+OK\r\n"
"#;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The Python interpreter itself (`python3` may be a slow launcher script).
fn python() -> String {
    let out = Command::new("python3")
        .args(["-c", "import sys; print(sys.executable)"])
        .output()
        .expect("python3 runs");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn clone(python: &str, defect: Option<&str>) -> String {
    let defect = defect.map_or(String::new(), |d| format!(" --defect {d}"));
    format!("{python} fixtures/python/mini_redis.py {{port}}{defect}")
}

/// The `scenario_finished` event of a JSON report.
fn finished(args: &[&str]) -> (serde_json::Value, f64) {
    let started = Instant::now();
    let output = Command::new(env!("CARGO_BIN_EXE_conform"))
        .current_dir(root())
        .args(args)
        .args(["--format", "json"])
        .output()
        .expect("run conform");
    let seconds = started.elapsed().as_secs_f64();
    let text = String::from_utf8_lossy(&output.stdout);
    let event = text
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["event"] == "scenario_finished")
        .unwrap_or(serde_json::Value::Null);
    (event, seconds)
}

struct Hunt {
    found: bool,
    first: Option<f64>,
    commands: Option<u64>,
    total: f64,
}

fn conform_hunt(python: &str, defect: &str, seed: u64) -> Hunt {
    let server = clone(python, Some(defect));
    let seed = seed.to_string();
    let args = [
        "run",
        SPEC,
        "--seed",
        &seed,
        "--server",
        &server,
        "--reference",
        REDIS,
    ];
    let (event, total) = finished(&args);
    let failure = &event["failure"];
    Hunt {
        found: event["verdict"] == "fail",
        first: failure["generated"]["elapsed_ms"]
            .as_f64()
            .map(|ms| ms / 1000.0),
        commands: failure["session"].as_array().map(|s| s.len() as u64),
        total,
    }
}

fn hypothesis_hunt(python: &str, defect: &str, seed: u64) -> Option<Hunt> {
    let output = Command::new(python)
        .current_dir(root())
        .args(["benches/redis_machine.py", defect, &seed.to_string()])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&output.stdout);
    let line: serde_json::Value = serde_json::from_str(text.lines().last()?).ok()?;
    Some(Hunt {
        found: line["found"].as_bool()?,
        first: line["first_failure_s"].as_f64(),
        commands: line["shrunk_commands"].as_u64(),
        total: line["total_s"].as_f64()?,
    })
}

fn cell(h: Option<&Hunt>) -> String {
    match h {
        None => format!("{:>28}", "(not run)"),
        Some(h) if !h.found => format!("{:>10}  {:>6}  {:>8.1}s", "not found", "-", h.total),
        Some(h) => format!(
            "{:>9.2}s  {:>6}  {:>8.1}s",
            h.first.unwrap_or(f64::NAN),
            h.commands.map_or("?".into(), |c| c.to_string()),
            h.total
        ),
    }
}

/// Lines that say something: neither blank nor only a comment.
fn code_lines(path: &str, comment: &str) -> usize {
    std::fs::read_to_string(root().join(path))
        .unwrap_or_default()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with(comment))
        .count()
}

fn sessions_per_second(args: &[&str], cases: u32) -> Option<f64> {
    let cases = cases.to_string();
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--cases", &cases, "--seed", "1"]);
    let (event, _) = finished(&all);
    let ms = event["duration_ms"].as_f64()?;
    (event["verdict"] == "pass").then(|| event["cases"].as_f64().unwrap_or(0.0) / (ms / 1000.0))
}

fn main() {
    let quick = std::env::var_os("CONFORM_BENCH_QUICK").is_some();
    let seeds: &[u64] = if quick { &[1] } else { &[1, 2, 3] };
    let python = python();
    let hypothesis = Command::new(&python)
        .args(["-c", "import hypothesis"])
        .status()
        .is_ok_and(|s| s.success());
    if !hypothesis {
        println!("(Python's hypothesis is not installed: pip install hypothesis for its column)");
    }
    println!("Hunting the clone's defects, every reply compared with redis-server");
    println!(
        "{:<22} {:>4}  {:>28}  {:>28}",
        "defect", "seed", "conform: first  cmds  total", "hypothesis: first  cmds  total"
    );
    for defect in DEFECTS {
        for &seed in seeds {
            let ours = conform_hunt(&python, defect, seed);
            let theirs = hypothesis
                .then(|| hypothesis_hunt(&python, defect, seed))
                .flatten();
            println!(
                "{defect:<22} {seed:>4}  {}  {}",
                cell(Some(&ours)),
                cell(theirs.as_ref())
            );
        }
    }
    println!(
        "\nLines: the spec {} (specs/examples/redis-session.yaml), the Hypothesis harness {} \
         (benches/redis_machine.py)",
        code_lines(SPEC, "#"),
        code_lines("benches/redis_machine.py", "#")
    );
    let dir = std::env::temp_dir().join(format!("conform-session-bench-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let fixed = dir.join("fixed.yaml");
    let _ = std::fs::write(&fixed, FIXED);
    let fixed = fixed.display().to_string();
    let server = clone(&python, None);
    let cases = if quick { 40 } else { 200 };
    println!(
        "\nSessions per second against the correct clone ({cases} sessions of up to 12 commands)"
    );
    for lifecycle in ["case", "scenario"] {
        let with = sessions_per_second(
            &[
                "run",
                SPEC,
                "--server",
                &server,
                "--reference",
                REDIS,
                "--lifecycle",
                lifecycle,
            ],
            cases,
        );
        let without = sessions_per_second(
            &["run", &fixed, "--server", &server, "--lifecycle", lifecycle],
            cases,
        );
        let show = |v: Option<f64>| v.map_or("failed".into(), |v| format!("{v:.1}"));
        println!(
            "  --lifecycle {lifecycle:<8}  with a reference {:>8}/s   without {:>8}/s",
            show(with),
            show(without)
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
