//! The functions conform adds to the expression language: bytes that work alike whether they
//! are text or a blob, strict decimal integers, and the replies of the Redis protocol (RESP).
//!
//! In: the engine being built. Out: the same engine with these functions registered.

use rhai::{Blob, Dynamic, Engine, EvalAltResult, ImmutableString};

type Fallible<T> = Result<T, Box<EvalAltResult>>;

/// The bytes of a string, a blob or a number (its decimal text).
fn bytes_of(value: &Dynamic) -> Fallible<Vec<u8>> {
    if value.is_string() {
        return Ok(value.clone().into_string()?.into_bytes());
    }
    if value.is_blob() {
        return Ok(value.clone().into_blob()?);
    }
    if let Ok(n) = value.as_int() {
        return Ok(n.to_string().into_bytes());
    }
    Err(format!(
        "expected a string, a blob or a number, got {}",
        value.type_name()
    )
    .into())
}

fn blob(bytes: Vec<u8>) -> Dynamic {
    super::Val::from_bytes(&bytes).to_dynamic()
}

/// `value` as a strict decimal integer: digits with no leading zero (but `0`), an optional
/// `-` before a non-zero number, no spaces, and within 64 bits; `()` for anything else.
fn strict_int(value: &Dynamic) -> Dynamic {
    let Ok(bytes) = bytes_of(value) else {
        return Dynamic::UNIT;
    };
    let Ok(text) = std::str::from_utf8(&bytes) else {
        return Dynamic::UNIT;
    };
    let digits = text.strip_prefix('-').unwrap_or(text);
    let canonical = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'))
        && text != "-0";
    match text.parse::<i64>() {
        Ok(n) if canonical => Dynamic::from_int(n),
        _ => Dynamic::UNIT,
    }
}

fn resp_bulk(value: &Dynamic) -> Fallible<Dynamic> {
    if value.is_unit() {
        return Ok(blob(b"$-1\r\n".to_vec()));
    }
    let bytes = bytes_of(value)?;
    let mut out = format!("${}\r\n", bytes.len()).into_bytes();
    out.extend_from_slice(&bytes);
    out.extend_from_slice(b"\r\n");
    Ok(blob(out))
}

fn line(prefix: &str, value: &Dynamic) -> Fallible<Dynamic> {
    let mut out = prefix.as_bytes().to_vec();
    out.extend(bytes_of(value)?);
    out.extend_from_slice(b"\r\n");
    Ok(blob(out))
}

fn join(a: &Dynamic, b: &Dynamic) -> Fallible<Dynamic> {
    let mut out = bytes_of(a)?;
    out.extend(bytes_of(b)?);
    Ok(blob(out))
}

pub(super) fn register(engine: &mut Engine) {
    engine
        .register_fn("size", |v: Dynamic| bytes_of(&v).map(|b| b.len() as i64))
        .register_fn("as_blob", |v: Dynamic| bytes_of(&v))
        .register_fn("concat", |a: Dynamic, b: Dynamic| join(&a, &b))
        .register_fn("same_bytes", |a: Dynamic, b: Dynamic| {
            Ok::<_, Box<EvalAltResult>>(bytes_of(&a)? == bytes_of(&b)?)
        })
        .register_fn("+", |a: ImmutableString, b: Blob| {
            join(&Dynamic::from(a), &Dynamic::from_blob(b))
        })
        .register_fn("+", |a: Blob, b: ImmutableString| {
            join(&Dynamic::from_blob(a), &Dynamic::from(b))
        })
        .register_fn("strict_int", |v: Dynamic| strict_int(&v))
        .register_fn("decimal", |n: i64| n.to_string())
        .register_fn("resp_bulk", |v: Dynamic| resp_bulk(&v))
        .register_fn("resp_null", || blob(b"$-1\r\n".to_vec()))
        .register_fn("resp_int", |n: i64| blob(format!(":{n}\r\n").into_bytes()))
        .register_fn("resp_simple", |v: Dynamic| line("+", &v))
        .register_fn("resp_error", |v: Dynamic| line("-", &v));
}
