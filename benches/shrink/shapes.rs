//! Shape by shape: does shrinking reach the true minimum, in how many probes, and how does
//! Hypothesis do on the same server? One table, one line per shape and tool.

use std::path::Path;
use std::process::Command;

use super::Row;

struct Shape {
    title: &'static str,
    spec: &'static str,
    fixture: &'static str,
    lifecycle: &'static str,
    /// How conform's report describes the true minimum.
    minimal: String,
    /// The true minimum's bytes in hex, as the Hypothesis script prints them.
    minimal_hex: String,
    /// The shape's name for `benches/hypothesis_shrink.py`.
    hypothesis: &'static str,
}

fn shapes() -> Vec<Shape> {
    vec![
        Shape {
            title: "8-byte buffer (UDP): \\x01",
            spec: "specs/udp-sizes.yaml",
            fixture: "fixtures/python/udp_server_forever_8_byte_buffer.py",
            lifecycle: "scenario",
            minimal: "1 byte(s) \"\\x01\"".into(),
            minimal_hex: "01".into(),
            hypothesis: "eight-byte-buffer",
        },
        Shape {
            title: "INCR wraps at 2^31: 2147483647",
            spec: "tests/data/minimal/counter.yaml",
            fixture: "fixtures/python/tcp_server_incr_wraps_at_2_31.py",
            lifecycle: "scenario",
            minimal: "2147483647 (64-bit big-endian: 000000007fffffff)".into(),
            minimal_hex: "000000007fffffff".into(),
            hypothesis: "wraps-at-2-31",
        },
        Shape {
            title: "splits on CR LF: 999 x 00, CR LF",
            spec: "tests/data/minimal/values.yaml",
            fixture: "fixtures/python/tcp_server_splits_on_crlf.py",
            lifecycle: "scenario",
            minimal: "1001 byte(s): \"\\x00\" × 999, \"\\r\\n\" at 999".into(),
            minimal_hex: format!("{}0d0a", "00".repeat(999)),
            hypothesis: "splits-on-crlf",
        },
        Shape {
            title: "regex abc|x?, every text fails: \"\"",
            spec: "tests/data/minimal/lines.yaml",
            fixture: "fixtures/python/tcp_server_splits_on_crlf.py",
            lifecycle: "scenario",
            minimal: "0 byte(s) \"\"".into(),
            minimal_hex: String::new(),
            hypothesis: "regex",
        },
    ]
}

/// One tool's results on one shape.
struct Tally {
    seeds: usize,
    reached: usize,
    probes: Vec<u64>,
    /// How conform's searches ended, e.g. `minimal 3, locally_minimal 5`.
    ends: String,
}

impl Tally {
    fn median(&self) -> u64 {
        let mut p = self.probes.clone();
        p.sort_unstable();
        p.get(p.len() / 2).copied().unwrap_or(0)
    }

    fn line(&self, title: &str, tool: &str) -> String {
        let max = self.probes.iter().max().copied().unwrap_or(0);
        format!(
            "{title:<36}  {tool:<10}  {:>5}  {:>7} of {:<3}  {:>6}  {:>5}  {}",
            self.seeds,
            self.reached,
            self.seeds,
            self.median(),
            max,
            self.ends
        )
    }
}

fn hypothesis_installed() -> bool {
    Command::new("python3")
        .args(["-c", "import hypothesis"])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Hypothesis on one shape and seed: the probes after the first failure and the minimal
/// example's hex, or `None` when it found no failure.
fn hypothesis(shape: &Shape, seed: u64) -> Option<(u64, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let output = Command::new("python3")
        .current_dir(root)
        .args(["benches/hypothesis_shrink.py", shape.hypothesis])
        .arg(seed.to_string())
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&output.stdout);
    let v: serde_json::Value = serde_json::from_str(text.lines().last()?).ok()?;
    Some((v["probes"].as_u64()?, v["minimal"].as_str()?.to_string()))
}

/// Runs every shape with conform (through `run`) and, when it is installed, Hypothesis, and
/// prints the table.
pub fn compare(quick: bool, run: fn(&str, u64, &str, &str) -> Option<Row>) {
    let seeds: Vec<u64> = if quick {
        (1..=3).collect()
    } else {
        (1..=8).collect()
    };
    let with_hypothesis = hypothesis_installed();
    println!("\nshapes: probes and whether the true minimum was reached");
    println!(
        "{:<36}  {:<10}  {:>5}  {:>14}  {:>6}  {:>5}  ends",
        "shape", "tool", "seeds", "true minimum", "median", "max"
    );
    let mut beaten = true;
    let mut all_reached = true;
    for shape in shapes() {
        let server = format!("python3 {} {{port}}", shape.fixture);
        let rows: Vec<Row> = seeds
            .iter()
            .filter_map(|&seed| run(shape.spec, seed, &server, shape.lifecycle))
            .collect();
        let mut ends: Vec<(String, usize)> = Vec::new();
        for r in &rows {
            match ends.iter_mut().find(|(w, _)| *w == r.shrinking) {
                Some((_, n)) => *n += 1,
                None => ends.push((r.shrinking.clone(), 1)),
            }
        }
        let ours = Tally {
            seeds: rows.len(),
            reached: rows.iter().filter(|r| r.minimal == shape.minimal).count(),
            probes: rows.iter().map(|r| r.probes).collect(),
            ends: ends
                .iter()
                .map(|(w, n)| format!("{w} {n}"))
                .collect::<Vec<_>>()
                .join(", "),
        };
        all_reached &= ours.reached == ours.seeds && ours.seeds == seeds.len();
        println!("{}", ours.line(shape.title, "conform"));
        if !with_hypothesis {
            continue;
        }
        let theirs: Vec<(u64, String)> = seeds
            .iter()
            .filter_map(|&seed| hypothesis(&shape, seed))
            .collect();
        let tally = Tally {
            seeds: theirs.len(),
            reached: theirs
                .iter()
                .filter(|(_, m)| *m == shape.minimal_hex)
                .count(),
            probes: theirs.iter().map(|(p, _)| *p).collect(),
            ends: String::new(),
        };
        beaten &= ours.median() <= tally.median() || ours.reached > tally.reached;
        println!("{}", tally.line("", "hypothesis"));
    }
    println!(
        "true minimum on every seed of every shape: {}",
        if all_reached { "yes" } else { "NO" }
    );
    if with_hypothesis {
        println!(
            "fewer probes than Hypothesis (median), or a truer minimum, on every shape: {}",
            if beaten { "yes" } else { "NO" }
        );
    } else {
        println!("Hypothesis: not installed (`pip install hypothesis`); its column is skipped");
    }
}
