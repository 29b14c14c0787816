//! The process layer against real `sh` programs: output capture, exit statuses, the stop
//! sequence, helpers that escape it, and the messages of spawn errors.

use super::*;
use rstest::rstest;
use std::os::unix::fs::PermissionsExt;

fn soon() -> Instant {
    Instant::now() + Duration::from_secs(60)
}

fn sh(script: &str) -> Child {
    spawn(&Spawn {
        argv: vec!["sh".into(), "-c".into(), script.into()],
        env: Vec::new(),
        capture_limit: 1 << 20,
    })
    .expect("sh starts")
}

/// Reads the first `n` pids a script prints, one per line.
fn printed_pids(child: &Child, n: usize) -> Vec<u32> {
    let out = child.wait_stdout(soon(), |c| {
        c.head.iter().filter(|&&b| b == b'\n').count() >= n
    });
    String::from_utf8_lossy(&out.head)
        .lines()
        .take(n)
        .map(|line| line.trim().parse().expect("a pid line"))
        .collect()
}

/// True once the pid is gone entirely: not running and not a zombie waiting to be reaped.
fn gone(pid: u32) -> bool {
    // SAFETY: signal 0 only checks for existence.
    let result = unsafe { libc::kill(raw_pid(pid), 0) };
    result == -1 && io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH)
}

#[test]
fn captures_stdout_and_stderr_separately() {
    let mut child = sh("echo out; echo err >&2");
    assert_eq!(child.wait_until(soon()), Some(Exit::Code(0)));
    assert!(child.wait_output_closed(soon()));
    assert_eq!(child.stdout().bytes(), Some(&b"out\n"[..]));
    assert_eq!(child.stderr().bytes(), Some(&b"err\n"[..]));
}

#[test]
fn passes_extra_environment() {
    let mut child = spawn(&Spawn {
        argv: vec!["sh".into(), "-c".into(), "echo \"$GREETING\"".into()],
        env: vec![("GREETING".into(), "hello".into())],
        capture_limit: 100,
    })
    .expect("sh starts");
    child.wait_until(soon());
    assert!(child.wait_output_closed(soon()));
    assert_eq!(child.stdout().bytes(), Some(&b"hello\n"[..]));
}

#[test]
fn stdin_is_empty() {
    let mut child = sh("cat; echo done");
    assert_eq!(child.wait_until(soon()), Some(Exit::Code(0)));
    assert!(child.wait_output_closed(soon()));
    assert_eq!(child.stdout().bytes(), Some(&b"done\n"[..]));
}

#[test]
fn huge_output_is_counted_but_kept_bounded() {
    let mut child = spawn(&Spawn {
        argv: vec![
            "head".into(),
            "-c".into(),
            "50000000".into(),
            "/dev/zero".into(),
        ],
        env: Vec::new(),
        capture_limit: 1000,
    })
    .expect("head starts");
    assert_eq!(child.wait_until(soon()), Some(Exit::Code(0)));
    assert!(child.wait_output_closed(soon()));
    let out = child.stdout();
    assert_eq!(out.total, 50_000_000);
    assert_eq!(out.head.len(), 1000);
    assert_eq!(out.tail.len(), TAIL_BYTES);
    assert!(out.truncated());
    assert_eq!(out.bytes(), None);
    assert_eq!(out.omitted(), 50_000_000 - 1000 - TAIL_BYTES as u64);
}

#[rstest]
#[case::success("exit 0", Exit::Code(0))]
#[case::failure("exit 3", Exit::Code(3))]
#[case::killed("kill -9 $$", Exit::Signal(libc::SIGKILL))]
#[case::segfault("kill -SEGV $$", Exit::Signal(libc::SIGSEGV))]
fn reports_how_the_program_exited(#[case] script: &str, #[case] expected: Exit) {
    let mut child = sh(script);
    assert_eq!(child.wait_until(soon()), Some(expected));
    let ending = child.terminate(Duration::from_secs(5));
    assert_eq!(
        ending,
        Ending {
            exit: expected,
            how: Stopped::ByItself
        }
    );
}

#[test]
fn wait_until_gives_up_at_the_deadline() {
    let mut child = sh("exec sleep 1000");
    let deadline = Instant::now() + Duration::from_millis(50);
    assert_eq!(child.wait_until(deadline), None);
    assert!(Instant::now() >= deadline);
}

#[test]
fn sigterm_stops_a_cooperative_program() {
    let mut child = sh("exec sleep 1000");
    let ending = child.terminate(Duration::from_secs(30));
    assert_eq!(
        ending.how,
        Stopped::Terminated {
            grace: Duration::from_secs(30)
        }
    );
    assert_eq!(ending.exit, Exit::Signal(libc::SIGTERM));
    assert_eq!(child.terminate(Duration::ZERO), ending);
}

#[test]
fn program_ignoring_sigterm_is_killed() {
    let mut child = sh("trap '' TERM; echo $$; while :; do sleep 1; done");
    let pid = printed_pids(&child, 1)[0];
    let ending = child.terminate(Duration::from_millis(200));
    assert_eq!(
        ending.how,
        Stopped::Killed {
            grace: Duration::from_millis(200)
        }
    );
    assert_eq!(ending.exit, Exit::Signal(libc::SIGKILL));
    assert!(gone(pid));
    assert!(child.wait_output_closed(soon()));
}

#[test]
fn background_child_ignoring_sigterm_is_killed_too() {
    // The helper prints its pid only once its trap is set, so SIGTERM cannot reach it
    // before it ignores SIGTERM (with `echo $!` it could, and nothing was left behind).
    let mut child = sh("sh -c 'trap \"\" TERM; echo $$; while :; do sleep 1; done' & wait");
    let leader = child.pid();
    let helper = printed_pids(&child, 1)[0];
    let ending = child.terminate(Duration::from_secs(5));
    assert_eq!(
        ending.how,
        Stopped::Terminated {
            grace: Duration::from_secs(5)
        }
    );
    // The helper, and its `sleep 1` when caught between two.
    assert!(child.left_behind() >= 1);
    assert!(gone(leader) && gone(helper));
}

#[test]
fn helper_escaped_with_setsid_is_killed() {
    let mut child = sh("setsid sh -c 'echo $$; exec sleep 1000' & wait");
    let helper = printed_pids(&child, 1)[0];
    child.terminate(Duration::from_secs(5));
    assert!(gone(helper));
    assert!(child.wait_output_closed(soon()));
}

#[test]
fn orphaned_helpers_of_a_finished_program_are_killed() {
    // The subshell exits at once, so both helpers are orphans by the time conform looks:
    // only the environment tag still ties them to this program.
    let mut child = sh("(setsid sh -c 'echo $$; exec sleep 1000' &); \
         (sh -c 'echo $$; exec sleep 1000' &)");
    let helpers = printed_pids(&child, 2);
    assert_eq!(child.wait_until(soon()), Some(Exit::Code(0)));
    let ending = child.terminate(Duration::from_secs(5));
    assert_eq!(ending.how, Stopped::ByItself);
    assert_eq!(child.left_behind(), 2);
    assert!(helpers.iter().all(|&pid| gone(pid)), "{helpers:?} survived");
}

#[test]
fn dropping_a_child_stops_its_program() {
    let child = sh("echo $$; exec sleep 1000");
    let pid = printed_pids(&child, 1)[0];
    drop(child);
    assert!(gone(pid));
}

#[test]
fn terminate_unregisters_the_group() {
    let mut child = sh("exec sleep 1000");
    let pgid = raw_pid(child.pid());
    assert!(cleanup::registered().contains(&pgid));
    child.terminate(Duration::from_secs(5));
    assert!(!cleanup::registered().contains(&pgid));
}

#[test]
fn missing_program_is_not_found() {
    for program in ["./no-such-program-here", "no-such-program-on-path"] {
        let error = spawn(&Spawn {
            argv: vec![program.into()],
            env: Vec::new(),
            capture_limit: 0,
        })
        .err();
        assert!(
            matches!(&error, Some(SpawnError::NotFound { program: p }) if p == program),
            "{program}"
        );
    }
}

#[test]
fn not_found_message_hints_at_the_path() {
    let error = SpawnError::NotFound {
        program: "./my-server".into(),
    };
    assert_eq!(
        error.to_string(),
        "cannot run `./my-server`: no such file or directory \
         (is the path right, relative to the current directory?)"
    );
}

#[test]
fn non_executable_file_is_permission_denied() {
    let file = tempfile::NamedTempFile::new().expect("temp file");
    let path = file.path().to_string_lossy().into_owned();
    std::fs::set_permissions(file.path(), std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let error = spawn(&Spawn {
        argv: vec![path.clone()],
        env: Vec::new(),
        capture_limit: 0,
    })
    .err();
    assert!(matches!(&error, Some(SpawnError::PermissionDenied { program }) if *program == path));
}

#[test]
fn script_with_missing_interpreter_says_so() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("script");
    std::fs::write(&path, "#!/no/such/interpreter\n").expect("write");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let error = spawn(&Spawn {
        argv: vec![path.to_string_lossy().into_owned()],
        env: Vec::new(),
        capture_limit: 0,
    })
    .err()
    .map(|e| e.to_string())
    .unwrap_or_default();
    assert!(error.contains("interpreter"), "{error}");
}

#[test]
fn empty_argv_is_an_error() {
    let error = spawn(&Spawn {
        argv: Vec::new(),
        env: Vec::new(),
        capture_limit: 0,
    })
    .err()
    .map(|e| e.to_string());
    assert_eq!(error.as_deref(), Some("cannot run an empty command"));
}
