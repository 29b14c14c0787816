//! Command templates: a one-line command as a user writes it in a spec or on the command line
//! comes in; an argv (`Vec<String>`) ready for `process::spawn` goes out.
//!
//! Words are split the way a POSIX shell splits them, but no shell ever runs and nothing is
//! expanded except conform's own placeholders, `{host}`, `{port}` and `{hostport}`. That keeps a
//! template meaning the same thing on every machine and lets conform report the exact argv.
//!
//! The way back, an argv shown as one line ([`join`], [`quote`]), quotes a word only where
//! splitting it again (here or in a shell) would not give the same word: an empty word, spaces,
//! quotes, shell operators and globs. Every report that shows a command goes through it.

use std::fmt;

/// Why a command template could not be split into words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateError {
    /// A `'` or `"` opened at this character offset (counting from 0) is never closed.
    UnterminatedQuote { quote: char, offset: usize },
    /// The template holds no word at all.
    Empty,
    /// An unquoted shell operator such as `|` or `>`: no shell runs, so it would silently
    /// become a literal argument instead of doing what the user meant.
    ShellOperator { operator: char, offset: usize },
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnterminatedQuote { quote, offset } => write!(
                f,
                "the command has a {quote} quote at character {} that is never closed",
                offset + 1
            ),
            Self::Empty => write!(f, "the command is empty"),
            Self::ShellOperator { operator, offset } => write!(
                f,
                "the command uses the shell operator `{operator}` at character {}, but conform \
                 runs no shell: quote it, or wrap the command in sh -c '...'",
                offset + 1
            ),
        }
    }
}

impl std::error::Error for TemplateError {}

/// Characters a shell would treat as operators when unquoted.
const OPERATORS: &[char] = &['|', '&', ';', '<', '>', '(', ')'];

/// Splits `template` into words with POSIX shell quoting rules and no expansion.
pub fn split(template: &str) -> Result<Vec<String>, TemplateError> {
    let mut splitter = Splitter::default();
    // Offsets count characters, not bytes, so messages match what the user sees.
    let mut chars = template.chars().enumerate().peekable();
    while let Some((offset, c)) = chars.next() {
        match c {
            ' ' | '\t' | '\n' => splitter.end_word(),
            '\'' => splitter.single_quoted(offset, &mut chars)?,
            '"' => splitter.double_quoted(offset, &mut chars)?,
            '\\' => splitter.escaped(&mut chars),
            c if OPERATORS.contains(&c) => {
                return Err(TemplateError::ShellOperator {
                    operator: c,
                    offset,
                });
            }
            c => splitter.push(c),
        }
    }
    splitter.end_word();
    if splitter.words.is_empty() {
        return Err(TemplateError::Empty);
    }
    Ok(splitter.words)
}

type Chars<'a> = std::iter::Peekable<std::iter::Enumerate<std::str::Chars<'a>>>;

/// Accumulates words; `started` tells an empty quoted word (`''`) from no word at all.
#[derive(Default)]
struct Splitter {
    words: Vec<String>,
    current: String,
    started: bool,
}

impl Splitter {
    fn push(&mut self, c: char) {
        self.current.push(c);
        self.started = true;
    }

    fn end_word(&mut self) {
        if self.started {
            self.words.push(std::mem::take(&mut self.current));
            self.started = false;
        }
    }

    fn single_quoted(&mut self, open: usize, chars: &mut Chars<'_>) -> Result<(), TemplateError> {
        self.started = true;
        for (_, c) in chars.by_ref() {
            if c == '\'' {
                return Ok(());
            }
            self.current.push(c);
        }
        Err(TemplateError::UnterminatedQuote {
            quote: '\'',
            offset: open,
        })
    }

    fn double_quoted(&mut self, open: usize, chars: &mut Chars<'_>) -> Result<(), TemplateError> {
        self.started = true;
        while let Some((_, c)) = chars.next() {
            match c {
                '"' => return Ok(()),
                '\\' => match chars.peek().map(|&(_, next)| next) {
                    // Inside double quotes only these lose their backslash, as in sh.
                    Some(next @ ('"' | '\\' | '$' | '`')) => {
                        self.current.push(next);
                        chars.next();
                    }
                    Some('\n') => {
                        chars.next();
                    }
                    _ => self.current.push('\\'),
                },
                c => self.current.push(c),
            }
        }
        Err(TemplateError::UnterminatedQuote {
            quote: '"',
            offset: open,
        })
    }

    fn escaped(&mut self, chars: &mut Chars<'_>) {
        match chars.next() {
            // A backslash-newline joins lines and leaves nothing behind.
            Some((_, '\n')) => {}
            Some((_, c)) => self.push(c),
            // sh keeps a trailing lone backslash literally.
            None => self.push('\\'),
        }
    }
}

/// Whether the template passes the port to the program (`{port}` or `{hostport}`); without
/// them, only the environment (`CONFORM_PORT`) tells it.
pub fn passes_port(words: &[String]) -> bool {
    words
        .iter()
        .any(|w| w.contains("{port}") || w.contains("{hostport}"))
}

/// Replaces `{host}`, `{port}` and `{hostport}` in every word.
///
/// An IPv6 host stays bare in `{host}` (`::1`) because most programs take the address as its own
/// argument, and gets brackets in `{hostport}` (`[::1]:1234`) because that is the only
/// unambiguous way to join it with a port.
pub fn expand(words: &[String], host: &str, port: u16) -> Vec<String> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let hostport = if bare.contains(':') {
        format!("[{bare}]:{port}")
    } else {
        format!("{bare}:{port}")
    };
    let port = port.to_string();
    let values = [
        ("{hostport}", hostport.as_str()),
        ("{host}", bare),
        ("{port}", port.as_str()),
    ];
    words.iter().map(|word| substitute(word, &values)).collect()
}

/// One left-to-right pass, so a value that happens to contain a placeholder is never expanded
/// a second time.
fn substitute(word: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(word.len());
    let mut rest = word;
    while let Some(brace) = rest.find('{') {
        out.push_str(&rest[..brace]);
        rest = &rest[brace..];
        match values.iter().find(|(name, _)| rest.starts_with(name)) {
            Some((name, value)) => {
                out.push_str(value);
                rest = &rest[name.len()..];
            }
            None => {
                out.push('{');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

pub use crate::quote::{join, quote};

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn words(list: &[&str]) -> Vec<String> {
        list.iter().map(|w| w.to_string()).collect()
    }

    #[rstest]
    #[case::plain_words("./server --port 5", &["./server", "--port", "5"])]
    #[case::runs_of_whitespace("  a \t b\n c  ", &["a", "b", "c"])]
    #[case::single_quotes_keep_everything("echo 'a \"b\" \\n $x'", &["echo", "a \"b\" \\n $x"])]
    #[case::double_quotes_join_words("echo \"a b\"", &["echo", "a b"])]
    #[case::double_quote_escapes(r#"x "\" \\ \$ \` \n""#, &["x", "\" \\ $ ` \\n"])]
    #[case::backslash_outside_quotes(r"a\ b c\'d", &["a b", "c'd"])]
    #[case::adjacent_quoted_parts_form_one_word("a'b'\"c\"d", &["abcd"])]
    #[case::empty_quotes_make_an_empty_word("x '' \"\"", &["x", "", ""])]
    #[case::dollar_is_not_expanded("echo $HOME ~ *", &["echo", "$HOME", "~", "*"])]
    #[case::backslash_newline_joins_lines("a\\\nb", &["ab"])]
    #[case::trailing_backslash_is_literal("a\\", &["a\\"])]
    #[case::quoted_operators_are_plain_text("sh -c 'a | b > c'", &["sh", "-c", "a | b > c"])]
    #[case::escaped_operator_is_plain_text(r"a \& b", &["a", "&", "b"])]
    #[case::non_ascii_survives("echo 'héllo wörld'", &["echo", "héllo wörld"])]
    fn split_follows_shell_quoting(#[case] template: &str, #[case] expected: &[&str]) {
        assert_eq!(split(template), Ok(words(expected)));
    }

    #[test]
    fn split_keeps_sh_c_script_as_one_word() {
        let argv = split("sh -c 'echo {port}'");
        assert_eq!(argv, Ok(words(&["sh", "-c", "echo {port}"])));
    }

    #[rstest]
    #[case::single("echo 'abc", '\'', 5)]
    #[case::double("echo \"abc", '"', 5)]
    #[case::single_inside_word("a b'c", '\'', 3)]
    fn split_rejects_unterminated_quote(
        #[case] template: &str,
        #[case] quote: char,
        #[case] offset: usize,
    ) {
        assert_eq!(
            split(template),
            Err(TemplateError::UnterminatedQuote { quote, offset })
        );
    }

    #[rstest]
    #[case::nothing("")]
    #[case::only_spaces("   \t\n")]
    fn split_rejects_empty_command(#[case] template: &str) {
        assert_eq!(split(template), Err(TemplateError::Empty));
    }

    #[rstest]
    #[case::pipe("a | b", '|')]
    #[case::redirect("./server > log", '>')]
    #[case::background("./server &", '&')]
    #[case::sequence("a; b", ';')]
    fn split_rejects_unquoted_shell_operator(#[case] template: &str, #[case] operator: char) {
        let Err(TemplateError::ShellOperator { operator: got, .. }) = split(template) else {
            panic!("expected a shell operator error for {template}");
        };
        assert_eq!(got, operator);
    }

    #[test]
    fn error_messages_are_sentences_counting_characters() {
        let unterminated = split("é 'x").map_err(|e| e.to_string());
        assert_eq!(
            unterminated,
            Err("the command has a ' quote at character 3 that is never closed".to_string())
        );
        assert_eq!(TemplateError::Empty.to_string(), "the command is empty");
    }

    #[test]
    fn expand_replaces_every_placeholder_in_every_word() {
        let argv = expand(
            &words(&[
                "./c",
                "{host}",
                "{port}",
                "--to={host}:{port}",
                "{port}{port}",
            ]),
            "127.0.0.1",
            4242,
        );
        assert_eq!(
            argv,
            words(&[
                "./c",
                "127.0.0.1",
                "4242",
                "--to=127.0.0.1:4242",
                "42424242"
            ])
        );
    }

    #[rstest]
    #[case::ipv4("127.0.0.1", "127.0.0.1", "127.0.0.1:1234")]
    #[case::ipv6_bare("::1", "::1", "[::1]:1234")]
    #[case::ipv6_given_with_brackets("[::1]", "::1", "[::1]:1234")]
    #[case::name("localhost", "localhost", "localhost:1234")]
    fn expand_renders_host_and_hostport(
        #[case] host: &str,
        #[case] bare: &str,
        #[case] hostport: &str,
    ) {
        let argv = expand(&words(&["{host}", "{hostport}"]), host, 1234);
        assert_eq!(argv, words(&[bare, hostport]));
    }

    #[test]
    fn expand_leaves_other_braces_alone() {
        let argv = expand(&words(&["{", "{prot}", "a{b}c", "}{port"]), "h", 1);
        assert_eq!(argv, words(&["{", "{prot}", "a{b}c", "}{port"]));
    }

    #[test]
    fn expand_does_not_reexpand_substituted_values() {
        let argv = expand(&words(&["{host}"]), "{port}", 7);
        assert_eq!(argv, words(&["{port}"]));
    }

    #[test]
    fn a_template_passes_the_port_only_with_a_port_placeholder() {
        let words = |t: &str| split(t).expect("splits");
        assert!(passes_port(&words("./srv {port}")));
        assert!(passes_port(&words("./cli --to={hostport}")));
        assert!(!passes_port(&words("python3 server.py")));
        assert!(!passes_port(&words("./srv {host}")));
    }

    #[rstest]
    #[case::plain("./server", "./server")]
    #[case::placeholder("{port}", "{port}")]
    #[case::empty("", "''")]
    #[case::space("a b", "'a b'")]
    #[case::single_quote("it's", r"'it'\''s'")]
    #[case::operator("a|b", "'a|b'")]
    #[case::glob("*.py", "'*.py'")]
    #[case::dollar("$HOME", "'$HOME'")]
    #[case::brace_expansion("{a,b}", "'{a,b}'")]
    #[case::non_ascii("été", "'été'")]
    fn quote_leaves_safe_words_bare_and_quotes_the_rest(#[case] word: &str, #[case] shown: &str) {
        assert_eq!(quote(word), shown);
    }

    #[test]
    fn join_keeps_an_empty_argument_visible() {
        let argv = words(&["redis-server", "--port", "4000", "--save", ""]);
        assert_eq!(join(&argv), "redis-server --port 4000 --save ''");
    }

    proptest::proptest! {
        /// Whatever the words, the line shown splits back into them: what a report shows can
        /// be pasted back as a template.
        #[test]
        fn join_then_split_gives_the_words_back(
            argv in proptest::collection::vec("[ -~\\t\\né]{0,12}", 1..6)
        ) {
            proptest::prop_assert_eq!(split(&join(&argv)), Ok(argv));
        }
    }
}
