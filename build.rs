//! Records the git revision fleetbench is built from, when the source is a git checkout, so
//! every result file can name the exact code that produced it.

fn main() {
    println!("cargo:rerun-if-changed=.git/HEAD");
    println!("cargo:rerun-if-changed=.git/refs/heads");
    let revision = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    if let Some(rev) = revision {
        println!("cargo:rustc-env=FLEETBENCH_GIT_REVISION={rev}");
    }
    record_gemm_version();
}

/// The version of the `gemm` crate this build links, from Cargo.lock, so a vendor-reference
/// case names the exact library it measured.
fn record_gemm_version() {
    println!("cargo:rerun-if-changed=Cargo.lock");
    let lock = std::fs::read_to_string("Cargo.lock").unwrap_or_default();
    let mut lines = lock.lines();
    let mut version = "unknown".to_string();
    while let Some(line) = lines.next() {
        if line.trim() == "name = \"gemm\"" {
            if let Some(v) = lines
                .next()
                .and_then(|l| l.trim().strip_prefix("version = "))
            {
                version = v.trim_matches('"').to_string();
            }
            break;
        }
    }
    println!("cargo:rustc-env=FLEETBENCH_GEMM_VERSION={version}");
}
