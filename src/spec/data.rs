//! Bytes that may depend on generated values: literal bytes, a generated variable, or a
//! computation over them (reverse, concatenation, the guide's Lisp vector rendering).
//!
//! In: the spec's `send`/`expect`/`expect_stdout` values and, at run time, an [`Env`] of
//! generated values. Out: the concrete bytes of one case. Pure: no I/O, no randomness.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};

use super::duration::{Dur, DurationError};
use super::expr::Val;
use super::payload::{decode_escaped, decode_hex, escape};
use number::{NumExpr, RawBinary, Width};

mod describe;
mod error;
pub mod number;
use describe::SHOWN;
pub use describe::describe_bytes;
pub use error::DataError;

/// A byte string in a spec, possibly computed from generated values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Data {
    Literal(Vec<u8>),
    /// The bytes of a generated value (a `split` value gives all its pieces joined).
    Var(String),
    Reverse(Box<Data>),
    Concat(Vec<Data>),
    /// The guide's rendering of a byte vector: `#(1 2 3)`.
    LispVector(Box<Data>),
    /// A number as decimal text: `16`.
    Decimal(NumExpr),
    /// A number as lowercase hexadecimal text: `1f`.
    HexText(NumExpr),
    /// A number in binary, of a fixed width and byte order.
    Binary(NumExpr, Width),
    /// The value of an expression (`{expr: "decimal(start + 1)"}`).
    Expr(crate::spec::expr::Expr),
}

/// One generated value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Value {
    Bytes(Vec<u8>),
    /// Bytes written in pieces: `cuts` are the offsets where a new write starts, `pauses` the
    /// wait before each piece after the first (one per cut).
    Split {
        data: Vec<u8>,
        cuts: Vec<usize>,
        pauses: Vec<Duration>,
    },
    /// A fixed-width integer; its bytes are its binary form or its decimal text. `value` is
    /// its 64 bits, two's complement for a signed width: [`Width::int`] reads it.
    Number {
        value: u64,
        width: Width,
    },
    /// The state of a session's model before a command (`state` in its expressions). It is
    /// computed from the commands before, never generated: it has no bytes of its own.
    Model(crate::spec::expr::Val),
}

/// The generated values of one case, by name.
pub type Env = BTreeMap<String, Value>;

impl Value {
    pub fn bytes(&self) -> Cow<'_, [u8]> {
        match self {
            Value::Bytes(b) => Cow::Borrowed(b),
            Value::Split { data, .. } => Cow::Borrowed(data),
            Value::Number { value, width } => Cow::Owned(width.encode(*value)),
            Value::Model(_) => Cow::Borrowed(&[]),
        }
    }

    /// The writes that deliver this value, each with the pause before it.
    pub fn pieces(&self) -> Vec<(Cow<'_, [u8]>, Duration)> {
        match self {
            Value::Bytes(_) | Value::Number { .. } | Value::Model(_) => {
                vec![(self.bytes(), Duration::ZERO)]
            }
            Value::Split { data, cuts, pauses } => {
                let mut out = Vec::with_capacity(cuts.len() + 1);
                let mut start = 0;
                for (i, &cut) in cuts.iter().enumerate() {
                    let pause = if i == 0 {
                        Duration::ZERO
                    } else {
                        pauses[i - 1]
                    };
                    out.push((Cow::Borrowed(&data[start..cut]), pause));
                    start = cut;
                }
                let last = cuts
                    .len()
                    .checked_sub(1)
                    .map_or(Duration::ZERO, |i| pauses[i]);
                out.push((
                    Cow::Borrowed(&data[start..]),
                    if cuts.is_empty() {
                        Duration::ZERO
                    } else {
                        last
                    },
                ));
                out
            }
        }
    }

    /// The `--with NAME=VALUE` text of this value: `hex:0a0b` or `split:3,9@20ms,0ms`.
    pub fn encode(&self) -> String {
        match self {
            Value::Bytes(b) => format!("hex:{}", hex(b)),
            Value::Number { value, width } => format!("number:{}", width.int(*value)),
            Value::Model(state) => state.describe(),
            Value::Split { cuts, pauses, .. } => {
                let cuts: Vec<String> = cuts.iter().map(|c| c.to_string()).collect();
                let pauses: Vec<String> = pauses
                    .iter()
                    .map(|p| format!("{}ms", p.as_millis()))
                    .collect();
                format!("split:{}@{}", cuts.join(","), pauses.join(","))
            }
        }
    }

    /// A short human description, for reports. Long byte strings are never cut silently:
    /// see [`describe_bytes`].
    pub fn describe(&self) -> String {
        match self {
            Value::Bytes(b) if b.len() > 4 && b.iter().all(|x| *x == b[0]) => {
                format!("{} byte(s), all \"{}\"", b.len(), escape(&b[..1]))
            }
            Value::Bytes(b) if b.len() <= SHOWN => {
                format!("{} byte(s) {}", b.len(), describe_bytes(b))
            }
            Value::Bytes(b) => format!("{} byte(s): {}", b.len(), describe_bytes(b)),
            Value::Number { value, width } => {
                format!(
                    "{} ({width}: {})",
                    width.int(*value),
                    hex(&width.encode(*value))
                )
            }
            Value::Model(state) => state.describe(),
            Value::Split { data, .. } => {
                let pieces: Vec<String> = self
                    .pieces()
                    .iter()
                    .map(|(p, pause)| format!("+{}ms {}", pause.as_millis(), describe_bytes(p)))
                    .collect();
                format!(
                    "{} byte(s) in {} write(s): {}",
                    data.len(),
                    pieces.len(),
                    pieces.join(", ")
                )
            }
        }
    }
}

/// A generated value as an expression sees it: text when it is UTF-8, else a blob; a number
/// as an integer (as its decimal text beyond 64-bit signed); the model's state as it is.
impl crate::spec::expr::Vars for Env {
    fn val(&self, name: &str) -> Option<Val> {
        Some(match self.get(name)? {
            Value::Number { value, width } => {
                let n = width.int(*value);
                i64::try_from(n).map_or_else(|_| Val::Text(n.to_string()), Val::Int)
            }
            Value::Model(state) => state.clone(),
            other => Val::from_bytes(&other.bytes()),
        })
    }
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Parses the `--with` text of a value; `base` is the split generator's data, if it is one,
/// and `width` the number generator's layout, if it is one.
pub fn decode_value(
    text: &str,
    base: Option<&[u8]>,
    width: Option<Width>,
) -> Result<Value, DataError> {
    if let Some(n) = text.strip_prefix("number:") {
        let width = width.ok_or(DataError::NumberNeedsNumber)?;
        let n: i128 = n.trim().parse().map_err(|_| DataError::NotANumber {
            text: n.to_string(),
        })?;
        let value = width
            .bits(n)
            .ok_or_else(|| DataError::Misfit(width.misfit(n)))?;
        return Ok(Value::Number { value, width });
    }
    if let Some(h) = text.strip_prefix("hex:") {
        return Ok(Value::Bytes(decode_hex(h)?));
    }
    if let Some(t) = text.strip_prefix("text:") {
        return Ok(Value::Bytes(t.as_bytes().to_vec()));
    }
    if let Some(spec) = text.strip_prefix("split:") {
        let data = base.ok_or(DataError::SplitNeedsSplit)?;
        let (cuts, pauses) = spec.split_once('@').unwrap_or((spec, ""));
        let cuts: Vec<usize> = list(cuts, |c| {
            c.parse::<usize>().map_err(|_| DataError::NotAnOffset {
                text: c.to_string(),
            })
        })?;
        let pauses: Vec<Duration> = list(pauses, |p| Ok(parse_pause(p)?))?;
        return split_value(data, cuts, pauses);
    }
    Err(DataError::UnknownForm {
        text: text.to_string(),
    })
}

/// A pause between writes: like a duration, but zero is allowed (`0ms`).
pub fn parse_pause(text: &str) -> Result<Duration, DurationError> {
    match text.trim() {
        "0" | "0ms" | "0s" => Ok(Duration::ZERO),
        other => other.parse::<Dur>().map(Dur::get),
    }
}

fn list<T>(text: &str, parse: impl Fn(&str) -> Result<T, DataError>) -> Result<Vec<T>, DataError> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(parse)
        .collect()
}

/// Checks and builds a split value.
pub fn split_value(
    data: &[u8],
    cuts: Vec<usize>,
    pauses: Vec<Duration>,
) -> Result<Value, DataError> {
    if cuts.windows(2).any(|w| w[0] >= w[1]) || cuts.iter().any(|&c| c == 0 || c >= data.len()) {
        return Err(DataError::Cuts { len: data.len() });
    }
    if pauses.len() != cuts.len() {
        return Err(DataError::Pauses { cuts: cuts.len() });
    }
    Ok(Value::Split {
        data: data.to_vec(),
        cuts,
        pauses,
    })
}

impl Data {
    /// The bytes of this data for one case. Variables are checked at load time, so a
    /// missing one can only mean a generated value of another kind; it yields nothing.
    pub fn eval(&self, env: &Env) -> Vec<u8> {
        match self {
            Data::Literal(b) => b.clone(),
            Data::Var(name) => env
                .get(name)
                .map(|v| v.bytes().to_vec())
                .unwrap_or_default(),
            Data::Reverse(inner) => {
                let mut b = inner.eval(env);
                b.reverse();
                b
            }
            Data::Concat(parts) => parts.iter().flat_map(|p| p.eval(env)).collect(),
            Data::LispVector(inner) => {
                let items: Vec<String> = inner.eval(env).iter().map(|b| b.to_string()).collect();
                format!("#({})", items.join(" ")).into_bytes()
            }
            Data::Decimal(n) => n.eval(env).to_string().into_bytes(),
            Data::HexText(n) => {
                let n = n.eval(env);
                let sign = if n < 0 { "-" } else { "" };
                format!("{sign}{:x}", n.unsigned_abs()).into_bytes()
            }
            // A negative number's low bytes are its two's complement in that size.
            Data::Binary(n, width) => width.encode(n.eval(env) as u64),
            // A failed evaluation is shown where its bytes belong, so the report says why.
            Data::Expr(expr) => expr
                .bytes(env)
                .unwrap_or_else(|e| format!("<expression failed: {e}>").into_bytes()),
        }
    }

    /// Every variable this data reads.
    pub fn vars<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            Data::Literal(_) => {}
            Data::Var(name) => out.push(name),
            Data::Reverse(inner) | Data::LispVector(inner) => inner.vars(out),
            Data::Concat(parts) => parts.iter().for_each(|p| p.vars(out)),
            Data::Decimal(n) | Data::HexText(n) | Data::Binary(n, _) => n.vars(out),
            Data::Expr(expr) => out.extend(expr.vars().iter().map(String::as_str)),
        }
    }

    /// The literal bytes, when nothing is computed.
    pub fn literal(&self) -> Option<&[u8]> {
        match self {
            Data::Literal(b) => Some(b),
            _ => None,
        }
    }
}

/// The fields that spell a [`Data`] inside a map, shared by `send`, `expect` and output lines.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DataFields {
    pub text: Option<String>,
    pub escaped: Option<String>,
    pub hex: Option<String>,
    pub bytes: Option<Vec<u8>>,
    pub var: Option<String>,
    pub reverse: Option<VarOrData>,
    pub concat: Option<Vec<TextOrData>>,
    pub lisp_vector: Option<VarOrData>,
    pub decimal: Option<NumExpr>,
    pub hex_text: Option<NumExpr>,
    pub binary: Option<RawBinary>,
    /// An expression whose value gives the bytes: a string, a blob or a number.
    #[schemars(with = "Option<String>")]
    pub expr: Option<serde_saphyr::Spanned<String>>,
}

impl DataFields {
    /// The one [`Data`] these fields spell, `None` when none is given.
    pub fn into_data(self) -> Result<Option<Data>, DataError> {
        let mut found: Vec<Data> = Vec::new();
        if let Some(t) = self.text {
            found.push(Data::Literal(t.into_bytes()));
        }
        if let Some(e) = self.escaped {
            found.push(Data::Literal(decode_escaped(&e)?));
        }
        if let Some(h) = self.hex {
            found.push(Data::Literal(decode_hex(&h)?));
        }
        if let Some(b) = self.bytes {
            found.push(Data::Literal(b));
        }
        if let Some(v) = self.var {
            found.push(Data::Var(v));
        }
        if let Some(r) = self.reverse {
            found.push(Data::Reverse(Box::new(r.0)));
        }
        if let Some(parts) = self.concat {
            found.push(Data::Concat(parts.into_iter().map(|p| p.0).collect()));
        }
        if let Some(v) = self.lisp_vector {
            found.push(Data::LispVector(Box::new(v.0)));
        }
        if let Some(n) = self.decimal {
            found.push(Data::Decimal(n));
        }
        if let Some(n) = self.hex_text {
            found.push(Data::HexText(n));
        }
        if let Some(b) = self.binary {
            found.push(Data::Binary(b.of, Width::new(b.size, b.order)?));
        }
        if let Some(e) = self.expr {
            found.push(Data::Expr(compile_spanned(&e)?));
        }
        match found.len() {
            0 => Ok(None),
            1 => Ok(found.pop()),
            _ => Err(DataError::SeveralWays),
        }
    }
}

/// Marks, in a load error's message, where an expression's error is: the scalar's line and
/// column, then the line and column inside the expression. The loader turns it into the
/// error's own position (`spec::load`), which needs the file's text to place it.
pub const EXPR_MARK: (&str, &str) = ("[[expression at ", "]] ");

/// Compiles an expression written in the spec; an error carries its position (see
/// [`EXPR_MARK`]).
pub fn compile_spanned(
    source: &serde_saphyr::Spanned<String>,
) -> Result<crate::spec::expr::Expr, DataError> {
    let (line, column) = (source.referenced.line(), source.referenced.column());
    crate::spec::expr::Expr::compile(&source.value, line, column).map_err(|e| DataError::Expr {
        line,
        column,
        at: e.at.unwrap_or((1, 1)),
        source: e,
    })
}

/// What to say when YAML turned a bare name into a boolean.
pub const BOOLEAN_NAME: &str = "YAML reads this bare word as a boolean (`n`, `y`, `no`, `yes`, `on`, `off`, ...): \
     quote it (`\"n\"`) or give the value another name";

/// A data map, or a plain string naming a generated variable (`reverse: payload`).
#[derive(Debug)]
pub struct VarOrData(pub Data);

/// A data map, or a plain string of literal text (items of `concat`).
#[derive(Debug)]
pub struct TextOrData(pub Data);

fn data_or_string<'de, D: Deserializer<'de>>(
    deserializer: D,
    from_str: fn(&str) -> Data,
) -> Result<Data, D::Error> {
    struct V(fn(&str) -> Data);
    impl<'de> Visitor<'de> for V {
        type Value = Data;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string or a map such as `{hex: \"01 02\"}`")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Data, E> {
            Ok((self.0)(v))
        }
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Data, E> {
            Err(E::custom(BOOLEAN_NAME))
        }
        fn visit_map<M: MapAccess<'de>>(self, map: M) -> Result<Data, M::Error> {
            let fields = DataFields::deserialize(de::value::MapAccessDeserializer::new(map))?;
            fields
                .into_data()
                .map_err(de::Error::custom)?
                .ok_or_else(|| {
                    de::Error::custom("empty map: say which bytes, e.g. `{var: payload}`")
                })
        }
        fn visit_seq<S: SeqAccess<'de>>(self, _: S) -> Result<Data, S::Error> {
            Err(de::Error::custom(
                "a list here is ambiguous: use `concat: [...]`",
            ))
        }
    }
    deserializer.deserialize_any(V(from_str))
}

impl<'de> Deserialize<'de> for VarOrData {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        data_or_string(d, |s| Data::Var(s.to_string())).map(VarOrData)
    }
}

impl<'de> Deserialize<'de> for TextOrData {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        data_or_string(d, |s| Data::Literal(s.as_bytes().to_vec())).map(TextOrData)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> Env {
        let mut env = Env::new();
        env.insert("p".into(), Value::Bytes(vec![1, 2, 3]));
        env
    }

    #[test]
    fn computes_reverse_concat_and_vector() {
        let data = Data::Concat(vec![
            Data::Literal(b"<".to_vec()),
            Data::Reverse(Box::new(Data::Var("p".into()))),
        ]);
        assert_eq!(data.eval(&env()), vec![b'<', 3, 2, 1]);
        let vector = Data::LispVector(Box::new(Data::Var("p".into())));
        assert_eq!(vector.eval(&env()), b"#(1 2 3)");
        assert_eq!(
            Data::LispVector(Box::new(Data::Literal(vec![]))).eval(&env()),
            b"#()"
        );
    }

    #[test]
    fn split_values_round_trip_through_their_text() {
        let value = split_value(
            b"Hello",
            vec![1, 3],
            vec![Duration::from_millis(20), Duration::ZERO],
        )
        .unwrap();
        let text = value.encode();
        assert_eq!(text, "split:1,3@20ms,0ms");
        assert_eq!(decode_value(&text, Some(b"Hello"), None), Ok(value.clone()));
        let pieces = value.pieces();
        let pieces: Vec<&[u8]> = pieces.iter().map(|p| &*p.0).collect();
        assert_eq!(pieces, vec![&b"H"[..], b"el", b"lo"]);
    }

    #[test]
    fn bytes_values_round_trip_through_hex() {
        let value = Value::Bytes(vec![0, 255]);
        assert_eq!(decode_value(&value.encode(), None, None), Ok(value));
    }

    fn signed(n: i128, width: Width) -> Value {
        let width = width.with_sign(true);
        Value::Number {
            value: width.bits(n).unwrap(),
            width,
        }
    }

    #[test]
    fn negative_numbers_round_trip_through_their_text() {
        let two = Width::new(2, None).unwrap();
        for value in [
            signed(-5, two),
            signed(i128::from(i64::MIN), Width::DECIMAL),
        ] {
            let Value::Number { width, .. } = value else {
                unreachable!()
            };
            assert_eq!(decode_value(&value.encode(), None, Some(width)), Ok(value));
        }
        assert_eq!(signed(-5, two).encode(), "number:-5");
        assert_eq!(
            decode_value("number:-32769", None, Some(two.with_sign(true))),
            Err(DataError::Misfit(
                "-32769 does not fit in a 16-bit signed big-endian number (-32768 to 32767)".into()
            ))
        );
        assert!(
            decode_value("number:-5", None, Some(two))
                .unwrap_err()
                .to_string()
                .starts_with("-5 is negative, and this number is unsigned")
        );
    }

    #[test]
    fn a_negative_number_is_described_with_its_sign_and_its_bytes() {
        let two = Width::new(2, None).unwrap();
        assert_eq!(
            signed(-5, two).describe(),
            "-5 (16-bit signed big-endian: fffb)"
        );
        assert_eq!(
            signed(-11, Width::DECIMAL).describe(),
            "-11 (signed decimal text: 2d3131)"
        );
    }

    #[test]
    fn computed_bytes_see_a_negative_number() {
        let mut env = Env::new();
        env.insert("by".into(), signed(-5, Width::new(1, None).unwrap()));
        let var = || NumExpr::Var("by".into());
        assert_eq!(Data::Var("by".into()).eval(&env), [0xfb]);
        assert_eq!(Data::Decimal(var()).eval(&env), b"-5");
        assert_eq!(Data::HexText(var()).eval(&env), b"-5");
        let four = Width::new(4, Some(number::Order::Little)).unwrap();
        assert_eq!(
            Data::Binary(var(), four).eval(&env),
            [0xfb, 0xff, 0xff, 0xff]
        );
        env.insert("by".into(), signed(-300, Width::DECIMAL));
        assert_eq!(Data::HexText(var()).eval(&env), b"-12c");
        use crate::spec::expr::{Expr, Vars};
        assert_eq!(env.val("by"), Some(Val::Int(-300)));
        let expr = Expr::compile("decimal(by * 2)", 1, 1).unwrap();
        assert_eq!(expr.bytes(&env).unwrap(), b"-600");
    }

    #[test]
    fn bad_split_values_are_refused() {
        let outside = split_value(b"abc", vec![0], vec![Duration::ZERO]).unwrap_err();
        assert_eq!(outside, DataError::Cuts { len: 3 });
        assert_eq!(
            outside.to_string(),
            "cuts must be increasing offsets inside the 3 bytes (1..3)"
        );
        assert!(split_value(b"abc", vec![2, 1], vec![Duration::ZERO; 2]).is_err());
        assert_eq!(
            split_value(b"abc", vec![1], vec![])
                .unwrap_err()
                .to_string(),
            "1 cut(s) need 1 pause(s), one per cut"
        );
    }
}
