//! How good and how cheap shrinking is against real programs, over many seeds.
//!
//! `cargo bench --bench shrink` runs `specs/udp-sizes.yaml` (datagrams of 0 to 1472 bytes)
//! against a persistent server with the guide's defect, an 8-byte buffer
//! (`fixtures/python/udp_server_forever_8_byte_buffer.py`), once per seed, and reads the JSON
//! report: the size of the first failing input, the size and bytes of the minimal one, the
//! probes (runs of the program) shrinking took, and how it ended. Targets: a 1-byte minimum
//! (`\x01`) on every seed, a median of at most 20 probes. With `sbcl` installed it also runs
//! the guide's own one-shot Lisp server for a few seeds, where every probe is a process start.
//!
//! Then, shape by shape, the probes used and whether the true minimum was reached: the
//! 8-byte buffer (`\x01`), a counter that wraps at 2^31 (2147483647), a server that splits
//! requests on CR LF (999 zero bytes, then CR LF) and a regex whose every text fails (its
//! shortest match, `""`); beside each, Hypothesis on the same server with the same generator
//! (`benches/hypothesis_shrink.py`), when `python3 -c "import hypothesis"` works.
//!
//! Probe counts do not depend on the machine's speed; the times printed beside them do.
//! Set `CONFORM_BENCH_QUICK=1` for fewer seeds (the Lisp part is then skipped).

use std::path::Path;
use std::process::Command;
use std::time::Instant;

#[path = "shrink/shapes.rs"]
mod shapes;

pub struct Row {
    pub seed: u64,
    pub original: usize,
    pub minimal: String,
    pub probes: u64,
    pub shrinking: String,
    pub seconds: f64,
}

fn conform() -> &'static str {
    env!("CARGO_BIN_EXE_conform")
}

/// The number at the start of a value description such as `12 byte(s) "..."`.
fn size(description: &str) -> usize {
    description
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(usize::MAX)
}

fn run(seed: u64, server: &str, lifecycle: &str) -> Option<Row> {
    run_spec("specs/udp-sizes.yaml", seed, server, lifecycle)
}

fn run_spec(spec: &str, seed: u64, server: &str, lifecycle: &str) -> Option<Row> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let started = Instant::now();
    let output = Command::new(conform())
        .current_dir(root)
        .args(["run", spec, "--format", "json"])
        .args(["--lifecycle", lifecycle, "--seed", &seed.to_string()])
        .args(["--server", server])
        .output()
        .expect("run conform");
    let seconds = started.elapsed().as_secs_f64();
    let text = String::from_utf8_lossy(&output.stdout);
    let finished = text
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["event"] == "scenario_finished")?;
    let g = &finished["failure"]["generated"];
    if g.is_null() {
        return None;
    }
    Some(Row {
        seed,
        original: size(g["original"][0]["description"].as_str().unwrap_or("")),
        minimal: g["minimal"][0]["description"]
            .as_str()
            .unwrap_or("")
            .to_string(),
        probes: g["probes"].as_u64().unwrap_or(u64::MAX),
        shrinking: g["shrinking"].as_str().unwrap_or("").to_string(),
        seconds,
    })
}

fn report(title: &str, rows: &[Row], median_target: Option<u64>) {
    println!("\n{title}");
    println!(
        "{:>6}  {:>14}  {:>16}  {:>7}  {:>10}  {:>7}",
        "seed", "first failure", "minimal", "probes", "shrinking", "time"
    );
    for r in rows {
        println!(
            "{:>6}  {:>8} bytes  {:>16}  {:>7}  {:>10}  {:>6.2}s",
            r.seed, r.original, r.minimal, r.probes, r.shrinking, r.seconds
        );
    }
    let mut probes: Vec<u64> = rows.iter().map(|r| r.probes).collect();
    probes.sort_unstable();
    let median = probes.get(probes.len() / 2).copied().unwrap_or(0);
    let one_byte = rows
        .iter()
        .filter(|r| r.minimal == "1 byte(s) \"\\x01\"" && r.shrinking == "minimal")
        .count();
    println!(
        "seeds: {}; minimal 1 byte \\x01 on {} of them (target: all); probes: median {median}, \
         min {}, max {}{}",
        rows.len(),
        one_byte,
        probes.first().copied().unwrap_or(0),
        probes.last().copied().unwrap_or(0),
        median_target.map_or(String::new(), |t| format!(" (target: median <= {t})")),
    );
    let met = one_byte == rows.len() && median_target.is_none_or(|t| median <= t);
    println!("{}", if met { "target met" } else { "TARGET MISSED" });
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is expected.
    let quick = std::env::var_os("CONFORM_BENCH_QUICK").is_some();
    let seeds = if quick { 1..=8 } else { 1..=24 };
    let server = "python3 fixtures/python/udp_server_forever_8_byte_buffer.py {port}";
    let rows: Vec<Row> = seeds
        .filter_map(|seed| run(seed, server, "scenario"))
        .collect();
    report(
        "persistent 8-byte-buffer server (fixtures/python/udp_server_forever_8_byte_buffer.py)",
        &rows,
        Some(20),
    );
    shapes::compare(quick, run_spec);
    let lisp = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/lisp/run");
    let has_sbcl = Command::new("sbcl")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !quick && has_sbcl && lisp.exists() {
        let server = format!("{} udp server {{port}}", lisp.display());
        let rows: Vec<Row> = (1..=5)
            .filter_map(|seed| run(seed, &server, "case"))
            .collect();
        report(
            "the guide's one-shot Lisp server (a process start per probe)",
            &rows,
            Some(20),
        );
    }
}
