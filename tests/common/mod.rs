//! Shared by the integration tests: the `conform` binary, fixture programs and the guide's
//! Lisp programs (fixtures/lisp/) as command templates.
#![allow(dead_code)]

pub mod hostile;
pub mod redis;
pub mod sample;

use std::path::{Path, PathBuf};

use assert_cmd::Command;

pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The `conform` binary, run from the repository root.
pub fn conform() -> Command {
    let mut cmd = Command::cargo_bin("conform").expect("the conform binary is built");
    cmd.current_dir(root());
    cmd.env_remove("NO_COLOR");
    cmd
}

/// The directory cargo put the examples (the Rust fixtures) in.
fn examples_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    // target/<profile>/deps/<test> -> target/<profile>/examples
    exe.parent()
        .and_then(Path::parent)
        .map(|p| p.join("examples"))
        .expect("target directory layout")
}

/// A command template that runs the named fixture with the port conform picks.
/// `name` is `python/x.py`, `shell/x.sh` or `rust/x` (built as a cargo example).
pub fn fixture(name: &str) -> String {
    let (lang, file) = name.split_once('/').expect("lang/name");
    match lang {
        "python" => format!("python3 fixtures/python/{file} {{port}}"),
        "shell" => format!("fixtures/shell/{file} {{port}}"),
        "rust" => {
            let path = examples_dir().join(file);
            assert!(
                path.exists(),
                "Rust fixture {} is not built; run the tests with `cargo test`, which builds examples",
                path.display()
            );
            format!("{} {{port}}", path.display())
        }
        other => panic!("unknown fixture language {other}"),
    }
}

/// The guide's own programs (fixtures/lisp/), run under SBCL. `fixtures/lisp/run` itself says
/// in one line on stderr when usocket is missing; that line then shows in conform's report.
pub fn lisp(proto: &str, role: &str) -> String {
    let run = root().join("fixtures/lisp/run");
    assert!(
        which("sbcl"),
        "sbcl is not installed: run the tests with scripts/test, which installs it"
    );
    format!("{} {proto} {role} {{port}}", run.display())
}

pub fn which(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

/// The first value line under "minimal input (after N probes):" in a human report, or "".
pub fn minimal_line(report: &str) -> &str {
    report
        .lines()
        .skip_while(|l| !l.contains("minimal input (after"))
        .nth(1)
        .unwrap_or_default()
}

/// stdout of a finished command as text.
pub fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The block of the human report for one scenario: its verdict line and indented details.
pub fn scenario_block(report: &str, scenario: &str) -> String {
    let mut lines = report
        .lines()
        .skip_while(|l| !l.contains(&format!(":: {scenario}")));
    let mut block = match lines.next() {
        Some(first) => vec![first.to_string()],
        None => panic!("scenario `{scenario}` is not in the report:\n{report}"),
    };
    block.extend(
        lines
            .take_while(|l| l.starts_with("      "))
            .map(str::to_string),
    );
    block.join("\n")
}

/// Output kept per stream of a tool run by [`run_tool`]; the rest is read and dropped so the
/// tool never blocks on a full pipe.
const TOOL_OUTPUT_LIMIT: usize = 4 << 20;

/// Runs a program the tests need from a Debian package, in its own process group, and kills
/// the whole group after `timeout` (a browser starts helpers). A missing program is a failure
/// that says how to get it, never a silent skip; a timeout is a failure too.
pub fn run_tool(
    program: &str,
    package: &str,
    args: &[&str],
    timeout: std::time::Duration,
) -> std::process::Output {
    use std::io::Read;
    use std::os::unix::process::CommandExt;
    use std::process::{Command, Stdio};
    use std::time::Instant;

    let mut child = match Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
    {
        Ok(child) => child,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!(
            "`{program}` is not installed; run scripts/test, which installs the Debian \
             package {package}, or `apt-get install -y {package}`"
        ),
        Err(e) => panic!("could not run {program}: {e}"),
    };
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut kept = Vec::new();
            if let Some(mut pipe) = pipe {
                let mut chunk = [0u8; 64 * 1024];
                while let Ok(n) = pipe.read(&mut chunk) {
                    if n == 0 {
                        break;
                    }
                    let room = TOOL_OUTPUT_LIMIT.saturating_sub(kept.len());
                    kept.extend_from_slice(&chunk[..n.min(room)]);
                }
            }
            kept
        })
    };
    let out = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let err = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let pid = child.id() as i32;
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() >= deadline => break None,
            Ok(None) => std::thread::sleep(std::time::Duration::from_millis(20)),
            Err(e) => panic!("waiting for {program}: {e}"),
        }
    };
    // The group is the tool and whatever it started; nothing of it may outlive the test
    // (nor hold the pipes open).
    // SAFETY: kill(2) with a negative pid signals the process group this test created.
    unsafe {
        libc::kill(-pid, libc::SIGKILL);
    }
    let status = match status {
        Some(status) => status,
        None => {
            let _ = child.wait();
            panic!("{program} did not finish within {timeout:?}; it was killed");
        }
    };
    std::process::Output {
        status,
        stdout: out.join().expect("stdout reader"),
        stderr: err.join().expect("stderr reader"),
    }
}

/// `conform run SPEC --server SERVER EXTRA...`: its exit code and stdout.
pub fn run_spec(spec: &str, server: &str, extra: &[&str]) -> (Option<i32>, String) {
    let output = conform()
        .args(["run", spec, "--server", server])
        .args(extra)
        .output()
        .unwrap();
    (output.status.code(), stdout(&output))
}

/// The trimmed lines of a report from `heading` to the line before the failing step.
pub fn shrunk_section<'a>(report: &'a str, heading: &str) -> Vec<&'a str> {
    report
        .lines()
        .map(str::trim)
        .skip_while(|l| !l.starts_with(heading))
        .take_while(|l| !l.starts_with("with the "))
        .collect()
}
