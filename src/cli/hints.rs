//! First mistakes on the command line, recognised so the error says what to type instead.
//!
//! In: the command line's words and what became of them. Out: a message, or nothing. Pure:
//! the callers decide what failed.

use std::fmt;

/// Words of a `--server` or `--client` command that the shell split off because the command
/// was not quoted: clap then took them for spec files (`--server python3 srv.py {port}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Misplaced {
    /// `--server` or `--client`.
    pub flag: String,
    /// The value the flag got: the first word of the command.
    pub first: String,
    /// The words that followed it and were taken for specs.
    pub words: Vec<String>,
}

impl fmt::Display for Misplaced {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let words = self.words.join(" ");
        let what = if self.words.len() == 1 {
            "is not a spec file: it looks"
        } else {
            "are not spec files: they look"
        };
        let command = format!("{} {words}", self.first);
        write!(
            f,
            "`{words}` {what} like the rest of the {flag} command, which the shell split into \
             words because it was not quoted, so {flag} got only `{first}`. Quote the whole \
             command: {flag} {quoted}",
            flag = self.flag,
            first = self.first,
            quoted = shell_quote(&command),
        )
    }
}

/// Whether a word names a YAML file: such a word is meant as a spec, even where it fails.
fn is_yaml(word: &str) -> bool {
    word.ends_with(".yaml") || word.ends_with(".yml")
}

/// The runs of words right after a `--server X` / `--client X` (or `--server=X`) that are
/// not options, not YAML file names, and that `failed` says did not load as specs.
pub(crate) fn misplaced_command(argv: &[String], failed: impl Fn(&str) -> bool) -> Vec<Misplaced> {
    let mut found = Vec::new();
    let mut i = 0;
    while i < argv.len() {
        let word = &argv[i];
        let (flag, first, rest) = match word.as_str() {
            "--server" | "--client" if i + 1 < argv.len() => {
                (word.clone(), argv[i + 1].clone(), i + 2)
            }
            w => match ["--server=", "--client="]
                .iter()
                .find_map(|p| w.strip_prefix(p).map(|v| (&p[..p.len() - 1], v)))
            {
                Some((flag, value)) => (flag.to_string(), value.to_string(), i + 1),
                None => {
                    i += 1;
                    continue;
                }
            },
        };
        let words: Vec<String> = argv[rest.min(argv.len())..]
            .iter()
            .take_while(|w| !w.starts_with('-') && !is_yaml(w) && failed(w))
            .cloned()
            .collect();
        i = rest + words.len();
        if !words.is_empty() {
            found.push(Misplaced { flag, first, words });
        }
    }
    found
}

/// `text` as one shell word: single-quoted unless it needs no quotes.
pub(crate) fn shell_quote(text: &str) -> String {
    if !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:=@,+%".contains(&b))
    {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(line: &str) -> Vec<String> {
        line.split(' ').map(str::to_string).collect()
    }

    #[test]
    fn words_after_an_unquoted_server_command_are_recognised() {
        let found = misplaced_command(
            &argv("conform run specs/udp.yaml --server python3 srv.py {port}"),
            |w| w != "specs/udp.yaml",
        );
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].to_string(),
            "`srv.py {port}` are not spec files: they look like the rest of the --server \
             command, which the shell split into words because it was not quoted, so --server \
             got only `python3`. Quote the whole command: --server 'python3 srv.py {port}'"
        );
    }

    #[test]
    fn one_word_and_the_equals_form() {
        let found = misplaced_command(&argv("conform run --client=./cli 8080 udp"), |w| {
            w == "8080"
        });
        assert_eq!(found[0].words, ["8080"]);
        assert!(
            found[0]
                .to_string()
                .starts_with("`8080` is not a spec file: it looks like"),
            "{}",
            found[0]
        );
        assert!(found[0].to_string().ends_with("--client './cli 8080'"));
    }

    #[test]
    fn yaml_files_options_and_loaded_specs_end_the_run_of_words() {
        let line = argv("conform run --server ./srv bad.yaml x --strict y");
        assert_eq!(misplaced_command(&line, |_| true), vec![]);
        let line = argv("conform run --server ./srv udp srv.py");
        assert_eq!(misplaced_command(&line, |w| w == "srv.py"), vec![]);
    }
}
