//! `expect_stdout` / `expect_stderr`: what a program must print, as written and for one case.
//!
//! In: YAML through serde (`RawOutput`). Out: [`ExpectOutput`], whose matcher is the whole
//! output as lines or bytes, or a regex found somewhere in it; lines may be computed from
//! generated values.

use regex::bytes::Regex;
use schemars::JsonSchema;
use serde::Deserialize;

use super::common::one_payload;
use super::error::ModelError;
use crate::spec::data::{Data, TextOrData};
use crate::spec::duration::Dur;

/// How a program's output is judged.
#[derive(Debug, Clone)]
pub enum OutputMatcher {
    /// The whole output is exactly these lines, each ending in `\n`.
    Lines(Vec<String>),
    /// The whole output is exactly these bytes.
    Exact(Vec<u8>),
    /// Some part of the output matches this regex (multi-line mode).
    Regex(Regex),
}

#[derive(Debug)]
pub struct ExpectOutput {
    pub matcher: OutputMatcher,
    /// Lines computed from generated values, when some are (`{lisp_vector: reply}`).
    pub computed_lines: Option<Vec<Data>>,
    pub within: Option<Dur>,
}

impl ExpectOutput {
    /// The concrete matcher for one case.
    pub fn resolve(&self, env: &crate::spec::data::Env) -> std::borrow::Cow<'_, OutputMatcher> {
        use std::borrow::Cow;
        match &self.computed_lines {
            None => Cow::Borrowed(&self.matcher),
            Some(lines) => Cow::Owned(OutputMatcher::Lines(
                lines
                    .iter()
                    .map(|l| String::from_utf8_lossy(&l.eval(env)).into_owned())
                    .collect(),
            )),
        }
    }
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawOutput {
    lines: Option<Vec<TextOrData>>,
    text: Option<String>,
    escaped: Option<String>,
    regex: Option<String>,
    within: Option<Dur>,
}

impl RawOutput {
    /// The form of a plain string: exactly this text.
    pub(super) fn text(text: String) -> RawOutput {
        RawOutput {
            text: Some(text),
            ..RawOutput::default()
        }
    }
}

impl TryFrom<RawOutput> for ExpectOutput {
    type Error = ModelError;
    fn try_from(raw: RawOutput) -> Result<Self, ModelError> {
        let exact = one_payload(raw.text, raw.escaped, None, None)?;
        let mut matchers = Vec::new();
        let mut computed_lines = None;
        if let Some(lines) = raw.lines {
            let lines: Vec<Data> = lines.into_iter().map(|l| l.0).collect();
            if lines
                .iter()
                .any(|l| l.literal().is_some_and(|b| b.contains(&b'\n')))
            {
                return Err(ModelError::OutputLineNewline);
            }
            let literal: Option<Vec<String>> = lines
                .iter()
                .map(|l| l.literal().map(|b| String::from_utf8_lossy(b).into_owned()))
                .collect();
            match literal {
                Some(texts) => matchers.push(OutputMatcher::Lines(texts)),
                None => {
                    matchers.push(OutputMatcher::Lines(Vec::new()));
                    computed_lines = Some(lines);
                }
            }
        }
        if let Some(bytes) = exact {
            matchers.push(OutputMatcher::Exact(bytes));
        }
        if let Some(pattern) = raw.regex {
            let regex = regex::bytes::RegexBuilder::new(&pattern)
                .multi_line(true)
                .size_limit(1 << 20)
                .build()
                .map_err(|source| ModelError::Regex {
                    pattern: pattern.clone(),
                    source,
                })?;
            matchers.push(OutputMatcher::Regex(regex));
        }
        match matchers.len() {
            1 => Ok(ExpectOutput {
                matcher: matchers.remove(0),
                computed_lines,
                within: raw.within,
            }),
            0 => Err(ModelError::OutputNone),
            _ => Err(ModelError::OutputSeveral),
        }
    }
}
