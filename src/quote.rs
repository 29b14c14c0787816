//! Words shown as a command line: each quoted only where a shell would need it, so what is shown
//! can be pasted back and splits into the same words (`drive::template::split` checks that).
//!
//! In: words. Out: text for reports and replay lines. Pure; used by events, reporters and the
//! runner alike, so it sits below all of them.

/// Characters a word may hold and still be shown bare: a shell and [`split`] read them as
/// themselves. `{` and `}` are among them so that `{port}` stays readable.
const BARE: &[u8] = b"-_./:=@,+%{}";

/// One word as a shell would need it written: as it is when that reads back the same, else in
/// single quotes (a `'` inside becomes `'\''`).
pub fn quote(word: &str) -> String {
    let bare = !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || BARE.contains(&b))
        // A shell expands `{a,b}` into two words; a lone `{port}` it leaves alone.
        && !(word.contains('{') && word.contains(','));
    if bare {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// The words as one command line that splits back into exactly these words.
pub fn join(words: &[String]) -> String {
    words
        .iter()
        .map(|word| quote(word))
        .collect::<Vec<_>>()
        .join(" ")
}
