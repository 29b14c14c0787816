use super::*;
use crate::spec::{Env, Value};

fn env(pairs: &[(&str, Value)]) -> Env {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

fn bytes(b: &[u8]) -> Value {
    Value::Bytes(b.to_vec())
}

#[test]
fn computes_bytes_from_generated_values() {
    let expr = Expr::compile("decimal(strict_int(start) + 1)", 1, 1).unwrap();
    assert_eq!(expr.vars(), ["start"]);
    let e = env(&[("start", bytes(b"41"))]);
    assert_eq!(expr.bytes(&e).unwrap(), b"42");
    let lower = Expr::compile("key.to_lower()", 1, 1).unwrap();
    assert_eq!(
        lower.bytes(&env(&[("key", bytes(b"AbC"))])).unwrap(),
        b"abc"
    );
}

#[test]
fn resp_helpers_frame_text_and_binary_values() {
    let expr = Expr::compile("resp_bulk(state[key])", 1, 1).unwrap();
    let mut map = std::collections::BTreeMap::new();
    map.insert("a".to_string(), Val::Bytes(vec![0xff, b'\r']));
    let e = env(&[("key", bytes(b"a")), (STATE, Value::Model(Val::Map(map)))]);
    assert_eq!(expr.bytes(&e).unwrap(), b"$2\r\n\xff\r\r\n");
    let e = env(&[
        ("key", bytes(b"b")),
        (STATE, Value::Model(Val::Map(Default::default()))),
    ]);
    assert_eq!(expr.bytes(&e).unwrap(), b"$-1\r\n");
}

#[test]
fn text_and_blobs_join_and_compare_by_their_bytes() {
    let expr = Expr::compile("size(a + b)", 1, 1).unwrap();
    let e = env(&[("a", bytes(b"x\xff")), ("b", bytes(b"yz"))]);
    assert_eq!(expr.eval(&e).unwrap(), Val::Int(4));
    let same = Expr::compile("same_bytes(a + b, b)", 1, 1).unwrap();
    let e = env(&[("a", bytes(b"")), ("b", bytes(b"\xff"))]);
    assert_eq!(same.holds(&e), Ok(true));
}

#[test]
fn strict_integers_refuse_what_redis_refuses() {
    let expr = Expr::compile("strict_int(v)", 1, 1).unwrap();
    for (text, want) in [
        (&b"0"[..], Val::Int(0)),
        (b"-12", Val::Int(-12)),
        (b"9223372036854775807", Val::Int(i64::MAX)),
        (b"9223372036854775808", Val::Unit),
        (b"00", Val::Unit),
        (b"-0", Val::Unit),
        (b"+1", Val::Unit),
        (b" 1", Val::Unit),
        (b"", Val::Unit),
    ] {
        assert_eq!(
            expr.eval(&env(&[("v", bytes(text))])).unwrap(),
            want,
            "{text:?}"
        );
    }
}

#[test]
fn syntax_errors_say_where_in_the_expression() {
    let err = Expr::compile("1 +", 3, 7).unwrap_err();
    assert_eq!(err.at.map(|a| a.0), Some(1), "{err:?}");
}

#[test]
fn free_variables_are_found_and_locals_are_not() {
    let expr = Expr::compile("let x = a; x + b + a", 1, 1).unwrap();
    assert_eq!(expr.vars(), ["a", "b"]);
}

#[test]
fn runaway_loops_and_eval_are_refused() {
    let lp = Expr::compile("let n = 0; loop { n += 1; }", 1, 1).unwrap();
    let err = lp.eval(&Env::new()).unwrap_err();
    assert!(err.message.contains("operations"), "{err:?}");
    assert!(Expr::compile("eval(\"1\")", 1, 1).is_err());
}

#[test]
fn a_condition_that_is_no_boolean_is_an_error() {
    let expr = Expr::compile("1", 1, 1).unwrap();
    let err = expr.holds(&Env::new()).unwrap_err();
    assert_eq!(
        err.message,
        "`1` gave an integer, but a condition is true or false"
    );
}

#[test]
fn helpers_take_text_and_blobs_alike() {
    for p in [&b"a\x00b"[..], b"a\xffb"] {
        let e = env(&[("p", bytes(p))]);
        let reversed = Expr::compile("let b = as_blob(p); b.reverse(); b", 1, 1).unwrap();
        let mut want = p.to_vec();
        want.reverse();
        assert_eq!(reversed.bytes(&e).unwrap(), want);
        let size = Expr::compile("size(p) + size(concat(p, p))", 1, 1).unwrap();
        assert_eq!(size.eval(&e).unwrap(), Val::Int(9));
    }
}
