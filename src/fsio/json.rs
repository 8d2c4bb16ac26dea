//! JSON parsing that refuses duplicate object keys. `serde_json` keeps the last of two equal
//! keys, so a file with a second `"cases": []` would load as an empty file that looks fine; a
//! file the tool wrote never repeats a key, so a repeat is refused wherever it appears.

use serde::de::{Deserialize, Deserializer, Error as _, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::collections::HashSet;

/// Parses `text` into a [`Value`], failing on the first duplicate key (with its line and
/// column) as well as on any syntax error. Nesting is bounded by `serde_json`'s recursion limit.
pub fn parse_strict(text: &str) -> Result<Value, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(text);
    let StrictValue(value) = StrictValue::deserialize(&mut de)?;
    de.end()?;
    Ok(value)
}

/// What [`scan_keys`] saw at the top level of a document.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TopLevel {
    /// Whether the document is an object.
    pub is_object: bool,
    /// The top-level fields `scan_keys` was asked to keep, with their values, in file order.
    pub kept: Vec<(String, Value)>,
}

/// The deepest nesting the scan follows; deeper documents take the full path, which applies
/// `serde_json`'s recursion limit (128) and words its error.
const MAX_DEPTH: usize = 128;

/// The bytes that end a run of number, literal or whitespace bytes outside strings.
const STRUCTURAL: [bool; 256] = {
    let mut table = [false; 256];
    let mut i = 0;
    let bytes = *b"\"{}[],:";
    while i < bytes.len() {
        table[bytes[i] as usize] = true;
        i += 1;
    }
    table
};

/// A fast, allocation-light check for the one thing [`parse_strict`] refuses beyond syntax: a
/// key repeated in an object, at any depth. `Some` when the text has none (with the top-level
/// fields named in `keep`); `None` when it has one, or when the scan cannot tell cheaply (a
/// key with an escape, nesting past [`MAX_DEPTH`], a value it cannot read). Syntax is not
/// checked here: the caller deserializes the text next, which checks it, and a `None` or a
/// failure sends the file through [`parse_strict`], which words the error.
pub fn scan_keys(text: &str, keep: &[&str]) -> Option<TopLevel> {
    enum Frame<'t> {
        Object(KeySet<'t>),
        Array,
    }
    let bytes = text.as_bytes();
    let mut stack: Vec<Frame<'_>> = Vec::new();
    let mut top = TopLevel::default();
    let mut capture: Option<(&str, usize)> = None;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                let end = string_end(bytes, i)?;
                let Some(Frame::Object(keys)) = stack.last_mut() else {
                    i = end;
                    continue;
                };
                let colon = end + bytes[end..].iter().take_while(|b| **b < 0x21).count();
                if bytes.get(colon) != Some(&b':') {
                    i = end;
                    continue;
                }
                let key = text.get(i + 1..end - 1)?;
                if key.contains('\\') || !keys.insert(Cow::Borrowed(key)) {
                    return None;
                }
                if stack.len() == 1 && keep.contains(&key) {
                    capture = Some((key, colon + 1));
                }
                i = colon + 1;
            }
            open @ (b'{' | b'[') => {
                top.is_object |= stack.is_empty() && open == b'{';
                stack.push(if open == b'{' {
                    Frame::Object(KeySet::default())
                } else {
                    Frame::Array
                });
                if stack.len() > MAX_DEPTH {
                    return None;
                }
                i += 1;
            }
            close @ (b'}' | b']' | b',') => {
                if let (1, Some((key, start))) = (stack.len(), capture) {
                    let value = serde_json::from_str(text.get(start..i)?).ok()?;
                    top.kept.push((key.to_string(), value));
                    capture = None;
                }
                if close != b',' {
                    stack.pop();
                }
                i += 1;
            }
            _ => {
                i += 1;
                while i < bytes.len() && !STRUCTURAL[bytes[i] as usize] {
                    i += 1;
                }
            }
        }
    }
    Some(top)
}

/// One past the closing quote of the string that opens at `open`; `None` if it never closes.
fn string_end(bytes: &[u8], open: usize) -> Option<usize> {
    let mut i = open + 1;
    loop {
        i = find(bytes, i, Find::QuoteOrBackslash);
        match bytes.get(i)? {
            b'"' => return Some(i + 1),
            _ => i += 2,
        }
    }
}

/// What [`find`] looks for.
#[derive(Debug, Clone, Copy)]
pub enum Find {
    /// A quote or a byte below `!` (whitespace, outside a string of valid JSON).
    QuoteOrBelowBang,
    /// A quote or a backslash (the end of a string, or an escape in it).
    QuoteOrBackslash,
}

/// The index of the first byte from `from` on that `what` names, or the length. Eight bytes at
/// a time, with the byte-wise "has a zero byte" / "has a byte below" tests on a 64-bit word:
/// scanning every byte of every file is a fixed cost of loading it, and a byte-at-a-time loop
/// was a tenth of `store ingest`.
pub fn find(bytes: &[u8], from: usize, what: Find) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    // The high bit of each byte below `n` (at most 128). Only the lowest flag is exact (a
    // borrow may flag bytes above it), so only the lowest is read.
    let below = |v: u64, n: u8| v.wrapping_sub(ONES * u64::from(n)) & !v & HIGHS;
    let equal = |v: u64, b: u8| below(v ^ (ONES * u64::from(b)), 1);
    let mut i = from;
    while let Some(chunk) = bytes.get(i..i + 8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let v = u64::from_le_bytes(word);
        let mask = match what {
            Find::QuoteOrBelowBang => equal(v, b'"') | below(v, 0x21),
            Find::QuoteOrBackslash => equal(v, b'"') | equal(v, b'\\'),
        };
        if mask != 0 {
            return i + (mask.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    let matches = |b: u8| match what {
        Find::QuoteOrBelowBang => b == b'"' || b < 0x21,
        Find::QuoteOrBackslash => b == b'"' || b == b'\\',
    };
    bytes
        .get(i..)
        .and_then(|rest| rest.iter().position(|&b| matches(b)))
        .map_or(bytes.len(), |n| i + n)
}

/// The keys of one object seen so far: a short list while the object is small (the usual
/// case), a hash set past that, so a hostile object with millions of keys stays linear.
#[derive(Default)]
struct KeySet<'t> {
    few: Vec<Cow<'t, str>>,
    many: HashSet<Cow<'t, str>>,
}

impl<'t> KeySet<'t> {
    /// Adds `key`; false when it was already there.
    fn insert(&mut self, key: Cow<'t, str>) -> bool {
        if self.many.is_empty() {
            if self.few.contains(&key) {
                return false;
            }
            self.few.push(key);
            if self.few.len() > 32 {
                self.many.extend(self.few.drain(..));
            }
            return true;
        }
        self.many.insert(key)
    }
}

/// Whether an error from [`parse_strict`] is about meaning (a duplicate key) rather than syntax.
pub fn is_duplicate_key(e: &serde_json::Error) -> bool {
    e.classify() == serde_json::error::Category::Data
}

struct StrictValue(Value);

impl<'de> Deserialize<'de> for StrictValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrictVisitor).map(StrictValue)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(StrictValue(v)) = seq.next_element()? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                return Err(A::Error::custom(format!("duplicate key \"{key}\"")));
            }
            let StrictValue(v) = map.next_value()?;
            out.insert(key, v);
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_to_serde_json_on_files_without_repeats() {
        let text = r#"{"a": [1, -2, 3.5, 1e300, true, null, "x"], "b": {"c": {}}}"#;
        let plain: Value = serde_json::from_str(text).unwrap();
        assert_eq!(parse_strict(text).unwrap(), plain);
    }

    #[test]
    fn a_repeated_key_is_refused_at_any_depth() {
        for text in [
            r#"{"cases": [1], "cases": []}"#,
            r#"{"a": [{"x": 1, "x": 2}]}"#,
        ] {
            let e = parse_strict(text).unwrap_err();
            assert!(is_duplicate_key(&e), "{e}");
            assert!(e.to_string().contains("duplicate key"), "{e}");
        }
    }

    #[test]
    fn the_scan_finds_every_repeat_the_parse_refuses_and_keeps_the_fields_asked_for() {
        let good =
            r#"{"v": 2, "k": "x:\"}", "a": [{"b": 1, "c": {"d": null}}, ":"], "e": {"v": 3}}"#;
        let top = scan_keys(good, &["v", "k"]).unwrap();
        assert!(top.is_object);
        let want = vec![
            ("v".into(), Value::from(2)),
            ("k".into(), Value::from("x:\"}")),
        ];
        assert_eq!(top.kept, want);
        assert!(parse_strict(good).is_ok());
        for repeated in [
            r#"{"cases": [1], "cases": []}"#,
            r#"{"a": [{"x": 1, "x" : 2}]}"#,
            r#"{"a": {"b": {"c": [{}, {"y": "1", "y": "2"}]}}}"#,
        ] {
            assert!(parse_strict(repeated).is_err(), "{repeated}");
            assert_eq!(scan_keys(repeated, &[]), None, "{repeated}");
        }
        // Escaped keys and deep nesting are left to the full parse.
        assert_eq!(scan_keys(r#"{"a\u0041": 1, "aA": 2}"#, &[]), None);
        let deep = "[".repeat(200) + &"]".repeat(200);
        assert_eq!(scan_keys(&deep, &[]), None);
        assert!(!scan_keys("[1, {\"a\": 2}]", &[]).unwrap().is_object);
    }

    #[test]
    fn an_object_with_many_keys_is_scanned_in_linear_time() {
        let mut text = String::from("{");
        for i in 0..50_000 {
            text += &format!("\"k{i}\": {i},");
        }
        assert!(scan_keys(&(text.clone() + "\"end\": 0}"), &[]).is_some());
        assert_eq!(scan_keys(&(text + "\"k7\": 0}"), &[]), None);
    }

    #[test]
    fn syntax_errors_and_deep_nesting_stay_syntax_errors() {
        let e = parse_strict("{\"a\": 1").unwrap_err();
        assert!(!is_duplicate_key(&e), "{e}");
        let deep = "[".repeat(10_000) + &"]".repeat(10_000);
        let e = parse_strict(&deep).unwrap_err();
        assert!(e.to_string().contains("recursion limit"), "{e}");
        assert!(parse_strict("{} x").is_err());
    }
}
