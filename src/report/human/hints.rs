//! Hints for the first mistakes people make, recognised in what a failure says: a server
//! command that does not pass the port.
//!
//! In: the target's command template and a [`Failure`]. Out: a hint, or nothing. Pure, so a
//! runner that learns more (a typed reason for "exited before listening") can call it too.

use crate::event::Failure;

/// Whether a failure is a server that ended before it listened, as `run` reports it (no step
/// ran, one mismatch "the program exited ... before listening on ...").
pub fn exited_before_listening(failure: &Failure) -> bool {
    failure.step.is_none()
        && matches!(failure.mismatches.as_slice(), [m]
            if m.summary.starts_with("the program ") && m.summary.contains(" before listening on "))
}

/// Shell-style variables conform does not expand, since no shell runs the command.
const SHELL_PORTS: [&str; 4] = ["${CONFORM_PORT}", "$CONFORM_PORT", "${PORT}", "$PORT"];

/// What to tell the user about a server command that exited before listening, once per run:
/// `None` when the command passes the port ({port} or {hostport}) and names no shell variable.
/// `scenarios` is how many scenarios ended that way.
pub fn port_hint(command: &str, scenarios: usize) -> Option<String> {
    let passes = command.contains("{port}") || command.contains("{hostport}");
    let variable = SHELL_PORTS.iter().find(|v| command.contains(*v));
    let times = match scenarios {
        1 => "in 1 scenario".to_string(),
        n => format!("in {n} scenarios"),
    };
    let head = format!("hint: the server exited before listening {times}");
    match variable {
        Some(var) => {
            let fixed = SHELL_PORTS
                .iter()
                .fold(command.to_string(), |c, v| c.replace(v, "{port}"));
            Some(format!(
                "{head}, and its command `{command}` uses `{var}`: no shell runs the command, so \
                 the program gets the text `{var}` as it is. Write {{port}} instead: --server {}",
                quote(&fixed)
            ))
        }
        None if !passes => Some(format!(
            "{head}, and its command `{command}` has no {{port}}. conform gives the server a free \
             port for every case, in place of {{port}} in the command (and in $CONFORM_PORT); a \
             program that wants its port as an argument exits without one. Write: --server {} \
             (or, for a program that uses a port of its own, --port N)",
            quote(&format!("{command} {{port}}"))
        )),
        None => None,
    }
}

fn quote(command: &str) -> String {
    format!("'{}'", command.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_command_without_the_port_is_told_to_pass_it() {
        let hint = port_hint("python3 srv.py", 9).unwrap();
        assert!(
            hint.starts_with(
                "hint: the server exited before listening in 9 scenarios, and its command \
                 `python3 srv.py` has no {port}."
            ),
            "{hint}"
        );
        assert!(
            hint.contains("Write: --server 'python3 srv.py {port}' (or,"),
            "{hint}"
        );
    }

    #[test]
    fn a_shell_variable_is_replaced_by_the_placeholder() {
        let hint = port_hint("python3 srv.py --port=$PORT", 1).unwrap();
        assert!(hint.contains("in 1 scenario, and"), "{hint}");
        assert!(
            hint.ends_with(
                "uses `$PORT`: no shell runs the command, so the program gets the text `$PORT` \
                 as it is. Write {port} instead: --server 'python3 srv.py --port={port}'"
            ),
            "{hint}"
        );
        let braced = port_hint("./srv ${CONFORM_PORT}", 2).unwrap();
        assert!(braced.ends_with("--server './srv {port}'"), "{braced}");
    }

    #[test]
    fn a_command_that_passes_the_port_gets_no_hint() {
        assert_eq!(port_hint("./srv {port}", 3), None);
        assert_eq!(port_hint("./srv --listen {hostport}", 3), None);
    }
}
