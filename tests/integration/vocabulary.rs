//! One metric vocabulary: `calibrate --metric` and `project --metric` read a metric through the
//! same parser, so a datasheet word (`bf16`, `fp32`) means the same metric in both, and a
//! ratios file built under one spelling feeds a projection asked for under the other.

use crate::common::{fleetbench, repo_path, tempdir};
use serde_json::Value;
use std::path::Path;

/// `calibrate --metric word`: the ratios file it wrote (without its time stamp), or its error.
fn calibrate(dir: &Path, inputs: &[String], word: &str) -> Result<Value, String> {
    let out_path = dir.join(format!("ratios-{word}.json"));
    let out = fleetbench()
        .arg("calibrate")
        .args(inputs)
        .args(["--reference", "h100-sxm", "--metric", word, "--force", "-o"])
        .arg(&out_path)
        .output()
        .unwrap();
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).to_string());
    }
    let mut file: Value =
        serde_json::from_str(&std::fs::read_to_string(&out_path).unwrap()).unwrap();
    file["created_at"] = Value::Null;
    Ok(file)
}

/// `project --metric word [extra]` as JSON, or its error.
fn project(word: &str, extra: &[&str]) -> Result<Value, String> {
    let fleet = repo_path("data/scenarios/meta-600k-h100e.toml");
    let out = fleetbench()
        .arg("project")
        .arg(&fleet)
        .args(["--metric", word, "--format", "json"])
        .args(extra)
        .output()
        .unwrap();
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).to_string());
    }
    Ok(serde_json::from_slice(&out.stdout).unwrap())
}

fn fake_run(dir: &Path, device: &str, gflops: u32) -> String {
    let path = dir.join(format!("{device}.json"));
    let out = fleetbench()
        .args(["run", "--fake", &format!("{device}:{gflops}")])
        .args(["--sizes", "32,48", "--samples", "6", "--quiet", "-o"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    path.display().to_string()
}

#[test]
fn calibrate_and_project_read_metric_words_alike() {
    let dir = tempdir();
    let inputs = [
        fake_run(dir.path(), "h100-sxm", 50000),
        fake_run(dir.path(), "a100-sxm4-80gb", 17000),
    ];
    for (word, name) in [("bf16", "matmul-f16"), ("fp32", "matmul-f32")] {
        let by_word = calibrate(dir.path(), &inputs, word);
        let by_name = calibrate(dir.path(), &inputs, name);
        assert_eq!(by_word, by_name, "calibrate --metric {word} is {name}");
        if let Err(e) = &by_word {
            assert!(!e.contains("unknown metric"), "{word}: {e}");
        }
        assert_eq!(
            project(word, &[]),
            project(name, &[]),
            "project --metric {word} is {name}"
        );
        let Ok(ratios) = by_word else { continue };
        assert_eq!(ratios["metric"], name);
        let ratios_path = dir.path().join(format!("ratios-{word}.json"));
        let ratios_path = ratios_path.to_str().unwrap();
        let projected = project(word, &["--ratios", ratios_path]).unwrap();
        assert!(
            projected
                .to_string()
                .contains(&format!("calibrated {name}")),
            "a ratios file calibrated as {word} serves project --metric {word}"
        );
    }
    for bad in ["fp7", "fp64"] {
        let c = calibrate(dir.path(), &inputs, bad).unwrap_err();
        let p = project(bad, &[]).unwrap_err();
        assert!(
            c.contains(&format!("'{bad}'")) && p.contains(&format!("'{bad}'")),
            "{c} {p}"
        );
    }
}
