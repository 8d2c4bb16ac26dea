//! Reading files of earlier schema versions. Version 1 stored each summary's median interval as
//! flat `median`, `ci_low`, `ci_high` numbers; version 2 stores the one [`crate::stats::Interval`]
//! shape (`median: { value, low, high, level }`). Nothing else changed, so a version-1 file is
//! rewritten in memory and then read, checked and compared like any other.

use serde_json::{Map, Value};

/// A version-1 result file as version 2: every summary object gets the interval shape (the
/// loader then sets the version). Registered in [`super::store::RESULT_FORMAT`].
pub fn v1_to_v2(value: &mut Value) -> Result<(), String> {
    upgrade_summaries(value);
    Ok(())
}

fn upgrade_summaries(value: &mut Value) {
    match value {
        Value::Object(object) => {
            if is_v1_summary(object) {
                upgrade(object);
            }
            object.values_mut().for_each(upgrade_summaries);
        }
        Value::Array(items) => items.iter_mut().for_each(upgrade_summaries),
        _ => {}
    }
}

fn is_v1_summary(object: &Map<String, Value>) -> bool {
    ["median", "ci_low", "ci_high", "mad", "n"]
        .iter()
        .all(|key| object.contains_key(*key))
        && object["median"].is_number()
}

fn upgrade(object: &mut Map<String, Value>) {
    let (Some(value), Some(low), Some(high)) = (
        object.remove("median"),
        object.remove("ci_low"),
        object.remove("ci_high"),
    ) else {
        return;
    };
    let interval = serde_json::json!({
        "value": value,
        "low": low,
        "high": high,
        "level": crate::stats::MEDIAN_LEVEL,
    });
    object.insert("median".into(), interval);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_medians_become_intervals() {
        let v1 = serde_json::json!({
            "schema_version": 1,
            "cases": [{"timing": {"throughput":
                {"n": 3, "median": 2.0, "min": 1.0, "max": 3.0, "mad": 1.0, "ci_low": 1.0, "ci_high": 3.0}}}]
        });
        let mut v2 = v1;
        v1_to_v2(&mut v2).unwrap();
        let t = &v2["cases"][0]["timing"]["throughput"];
        assert_eq!(t["median"]["value"], 2.0);
        assert_eq!(t["median"]["low"], 1.0);
        assert_eq!(t["median"]["level"], 0.95);
        assert!(t.get("ci_low").is_none());
    }
}
