//! JSON parsing that refuses duplicate object keys. `serde_json` keeps the last of two equal
//! keys, so a file with a second `"cases": []` would load as an empty file that looks fine; a
//! file the tool wrote never repeats a key, so a repeat is refused wherever it appears.

use serde::de::{Deserialize, Deserializer, Error as _, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// Parses `text` into a [`Value`], failing on the first duplicate key (with its line and
/// column) as well as on any syntax error. Nesting is bounded by `serde_json`'s recursion limit.
pub fn parse_strict(text: &str) -> Result<Value, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(text);
    let StrictValue(value) = StrictValue::deserialize(&mut de)?;
    de.end()?;
    Ok(value)
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
    fn syntax_errors_and_deep_nesting_stay_syntax_errors() {
        let e = parse_strict("{\"a\": 1").unwrap_err();
        assert!(!is_duplicate_key(&e), "{e}");
        let deep = "[".repeat(10_000) + &"]".repeat(10_000);
        let e = parse_strict(&deep).unwrap_err();
        assert!(e.to_string().contains("recursion limit"), "{e}");
        assert!(parse_strict("{} x").is_err());
    }
}
