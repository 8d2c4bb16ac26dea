//! The Kubernetes manifest is validated against the Kubernetes JSON schemas, offline, with
//! `kubernetes-validate` (a PyPI package that ships the schemas; .ci/install.d/40-cluster.sh
//! installs it). A deliberately broken copy must fail, so the check is known to bite. Without
//! the tool the tests skip, unless CI=true or FLEETBENCH_REQUIRE_GPU=1 makes them fail.

use crate::common::{repo_path, tempdir};
use std::path::Path;
use std::process::{Command, Output};

const MANIFEST: &str = "deploy/kubernetes/fleetbench-job.yaml";

/// Oldest Kubernetes with every field the manifest uses (`backoffLimitPerIndex`), and the
/// newest the package knows.
const VERSIONS: &[&str] = &["1.30.0", "1.37.0"];

fn validator_available() -> bool {
    let found = Command::new("kubernetes-validate")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    let required = std::env::var("CI").as_deref() == Ok("true")
        || std::env::var("FLEETBENCH_REQUIRE_GPU").as_deref() == Ok("1");
    assert!(
        found || !required,
        "kubernetes-validate is not installed (pip install kubernetes-validate)"
    );
    if !found {
        eprintln!("skipping: kubernetes-validate is not installed");
    }
    found
}

fn validate(path: &Path, version: &str) -> Output {
    Command::new("kubernetes-validate")
        .args(["--strict", "--kubernetes-version", version])
        .arg(path)
        .output()
        .unwrap()
}

#[test]
fn the_indexed_job_manifest_matches_the_kubernetes_schema() {
    if !validator_available() {
        return;
    }
    let manifest = repo_path(MANIFEST);
    for version in VERSIONS {
        let out = validate(&manifest, version);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{version}: {stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            stdout.contains("passed for resource job/fleetbench"),
            "{stdout}"
        );
        assert!(stdout.contains("passed for resource persistentvolumeclaim/fleetbench-results"));
    }
    let text = std::fs::read_to_string(&manifest).unwrap();
    for expected in [
        "completionMode: Indexed",
        "--unique-name",
        "claimName: fleetbench-results",
    ] {
        assert!(text.contains(expected), "the manifest lacks '{expected}'");
    }
}

#[test]
fn a_manifest_that_breaks_the_schema_is_rejected() {
    if !validator_available() {
        return;
    }
    let text = std::fs::read_to_string(repo_path(MANIFEST)).unwrap();
    let dir = tempdir();
    for (from, to) in [
        ("completions: 8", "completions: eight"),
        (
            "completionMode: Indexed",
            "completionMode: Indexed\n  parallelizm: 8",
        ),
    ] {
        assert!(text.contains(from));
        let broken = dir.path().join("broken.yaml");
        std::fs::write(&broken, text.replacen(from, to, 1)).unwrap();
        let out = validate(&broken, VERSIONS[1]);
        assert!(!out.status.success(), "'{to}' was accepted");
    }
}
