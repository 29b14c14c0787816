//! Values of the expression language kept outside the engine: the model's state between
//! commands (so a case can be hashed, compared and replayed), and an expression's result.
//!
//! In: Rhai values. Out: [`Val`], and back. Blobs that are valid UTF-8 become text, so that a
//! value is spelt one way whichever operations built it.

use std::collections::BTreeMap;

use rhai::{Array, Blob, Dynamic, Map};

/// A value of the expression language.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Val {
    Unit,
    Bool(bool),
    Int(i64),
    Text(String),
    /// Bytes that are not UTF-8.
    Bytes(Vec<u8>),
    List(Vec<Val>),
    Map(BTreeMap<String, Val>),
}

impl Val {
    /// Bytes as text when they are UTF-8, else as a blob.
    pub fn from_bytes(bytes: &[u8]) -> Val {
        match std::str::from_utf8(bytes) {
            Ok(text) => Val::Text(text.to_string()),
            Err(_) => Val::Bytes(bytes.to_vec()),
        }
    }

    pub fn from_dynamic(d: &Dynamic) -> Val {
        if d.is_unit() {
            return Val::Unit;
        }
        if let Ok(b) = d.as_bool() {
            return Val::Bool(b);
        }
        if let Ok(n) = d.as_int() {
            return Val::Int(n);
        }
        if d.is_string() {
            return Val::Text(d.clone().into_string().unwrap_or_default());
        }
        if d.is_char() {
            return Val::Text(d.as_char().map(String::from).unwrap_or_default());
        }
        if d.is_blob() {
            return Val::from_bytes(&d.clone().into_blob().unwrap_or_default());
        }
        if d.is_array() {
            let items = d.clone().into_array().unwrap_or_default();
            return Val::List(items.iter().map(Val::from_dynamic).collect());
        }
        if d.is_map() {
            let map = d.clone().cast::<Map>();
            return Val::Map(
                map.iter()
                    .map(|(k, v)| (k.to_string(), Val::from_dynamic(v)))
                    .collect(),
            );
        }
        Val::Text(d.to_string())
    }

    pub fn to_dynamic(&self) -> Dynamic {
        match self {
            Val::Unit => Dynamic::UNIT,
            Val::Bool(b) => Dynamic::from_bool(*b),
            Val::Int(n) => Dynamic::from_int(*n),
            Val::Text(t) => Dynamic::from(t.clone()),
            Val::Bytes(b) => Dynamic::from_blob(Blob::from(b.clone())),
            Val::List(items) => {
                Dynamic::from_array(items.iter().map(Val::to_dynamic).collect::<Array>())
            }
            Val::Map(map) => Dynamic::from_map(
                map.iter()
                    .map(|(k, v)| (k.as_str().into(), v.to_dynamic()))
                    .collect::<Map>(),
            ),
        }
    }

    /// The bytes this value stands for where a spec wants bytes.
    pub fn to_bytes(&self) -> Option<Vec<u8>> {
        match self {
            Val::Text(t) => Some(t.as_bytes().to_vec()),
            Val::Bytes(b) => Some(b.clone()),
            Val::Int(n) => Some(n.to_string().into_bytes()),
            _ => None,
        }
    }

    /// What kind of value this is, for messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Val::Unit => "nothing (`()`)",
            Val::Bool(_) => "a boolean",
            Val::Int(_) => "an integer",
            Val::Text(_) => "a string",
            Val::Bytes(_) => "a blob",
            Val::List(_) => "an array",
            Val::Map(_) => "a map",
        }
    }

    /// [`Val::describe`] cut to a few dozen characters, for a transcript line.
    pub fn summary(&self) -> String {
        const SHOWN: usize = 60;
        let full = self.describe();
        match full.char_indices().nth(SHOWN) {
            Some((at, _)) => format!("{}… ({} characters)", &full[..at], full.chars().count()),
            None => full,
        }
    }

    /// A short rendering, for reports: Rhai's own notation, bytes escaped.
    pub fn describe(&self) -> String {
        match self {
            Val::Unit => "()".into(),
            Val::Bool(b) => b.to_string(),
            Val::Int(n) => n.to_string(),
            Val::Text(t) => format!("\"{}\"", crate::spec::payload::escape(t.as_bytes())),
            Val::Bytes(b) => format!("blob(\"{}\")", crate::spec::payload::escape(b)),
            Val::List(items) => {
                let items: Vec<String> = items.iter().map(Val::describe).collect();
                format!("[{}]", items.join(", "))
            }
            Val::Map(map) => {
                let items: Vec<String> = map
                    .iter()
                    .map(|(k, v)| format!("{k:?}: {}", v.describe()))
                    .collect();
                format!("#{{{}}}", items.join(", "))
            }
        }
    }
}
