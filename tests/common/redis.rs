//! What the session and model tests share: redis-server as the reference, the small Redis
//! clone in `fixtures/python/mini_redis.py`, and reading the minimal session off a report.

/// redis-server as a `--reference` (or `--server`) template, with no persistence.
pub const REDIS: &str = "redis-server --port {port} --bind 127.0.0.1 --save '' --appendonly no";

/// The Python interpreter itself: `python3` may be a launcher script (pyenv's shims) that
/// costs more than a whole session to start, and sessions start the program every time.
pub fn python() -> &'static str {
    static PYTHON: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    PYTHON.get_or_init(|| {
        let out = std::process::Command::new("python3")
            .args(["-c", "import sys; print(sys.executable)"])
            .output()
            .expect("python3 runs");
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    })
}

/// The clone as a `--server` template, with one planted defect or none.
pub fn clone(defect: Option<&str>) -> String {
    let defect = defect.map_or(String::new(), |d| format!(" --defect {d}"));
    format!(
        "{} fixtures/python/mini_redis.py {{port}}{defect}",
        python()
    )
}

/// The `--session` of a report's replay line: the minimal session, command by command.
pub fn minimal_session(report: &str) -> String {
    let replay = report
        .lines()
        .find(|l| l.contains("replay: "))
        .unwrap_or_else(|| panic!("no replay line:\n{report}"));
    let words = conform::drive::template::split(replay.trim_start()).unwrap();
    let at = words.iter().position(|w| w == "--session").unwrap();
    words[at + 1].clone()
}
