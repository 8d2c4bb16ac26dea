//! The HTML report in a real headless browser (Debian's chromium, installed on CI by
//! `.ci/install.d/60-chromium.sh`): the page loads offline without console messages, every
//! chart renders, and a screenshot of it is not blank.
//!
//! Without chromium the tests skip, except on CI (`CI` set) or with
//! `FLEETBENCH_REQUIRE_BROWSER=1`, where they fail: a browser test that silently skips on CI
//! tests nothing. `FLEETBENCH_CHROMIUM` names another binary.

use crate::common::{fleetbench, tempdir};
use crate::report_support::{fixture, fixture_path, save, with_ceilings};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The most a browser run may take before it is killed; a hung browser must not hang CI.
const BROWSER_TIMEOUT: Duration = Duration::from_secs(120);

fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("FLEETBENCH_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    let found = std::env::split_paths(&path)
        .flat_map(|dir| ["chromium", "chromium-browser"].map(|n| dir.join(n)))
        .find(|p| p.is_file());
    let required = std::env::var("FLEETBENCH_REQUIRE_BROWSER").as_deref() == Ok("1")
        || std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false");
    if found.is_none() {
        assert!(
            !required,
            "chromium is required here but was not found in PATH"
        );
        eprintln!("skipping: no chromium (set FLEETBENCH_REQUIRE_BROWSER=1 to make this fail)");
    }
    found
}

/// What a browser run printed and how it ended.
struct Browsed {
    success: bool,
    stdout: String,
    stderr: String,
}

/// Runs headless chromium on `page` with `extra` flags, in a fresh profile, offline. Output
/// goes to files, not pipes: a page's DOM is larger than a pipe buffer, and an unread pipe
/// would block the browser.
fn browse(browser: &Path, page: &Path, extra: &[String]) -> Browsed {
    let profile = tempdir();
    let out_path = profile.path().join("stdout.txt");
    let err_path = profile.path().join("stderr.txt");
    let file = |p: &Path| Stdio::from(std::fs::File::create(p).expect("log file"));
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!(
            "--user-data-dir={}",
            profile.path().join("profile").display()
        ))
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .stdout(file(&out_path))
        .stderr(file(&err_path))
        .spawn()
        .expect("chromium starts");
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("chromium can be waited on") {
            break status;
        }
        if start.elapsed() > BROWSER_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish within {BROWSER_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let read =
        |p: &Path| String::from_utf8_lossy(&std::fs::read(p).unwrap_or_default()).into_owned();
    Browsed {
        success: status.success(),
        stdout: read(&out_path),
        stderr: read(&err_path),
    }
}

/// Console messages chromium logged for the page (console calls and uncaught errors).
fn console_messages(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .filter(|l| l.contains(":CONSOLE"))
        .map(str::to_string)
        .collect()
}

fn build_report(dir: &Path) -> PathBuf {
    let a = save(
        dir,
        "a.json",
        &with_ceilings(fixture("fake-a.json"), 480.0, 30.0),
    );
    let out_dir = dir.join("report");
    let out = fleetbench()
        .arg("report")
        .arg(&a)
        .arg(fixture_path("fake-b.json"))
        .arg("--ratios")
        .arg(crate::common::repo_path(
            "data/scenarios/ratios-mamf-bf16.json",
        ))
        .arg("--fleet")
        .arg(crate::common::repo_path(
            "data/scenarios/doubling-since-2023q1.toml",
        ))
        .arg("-o")
        .arg(&out_dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out_dir.join("index.html")
}

#[test]
fn console_messages_are_detected() {
    let Some(browser) = chromium() else { return };
    let tmp = tempdir();
    let page = tmp.path().join("bad.html");
    let script = "<script>console.error('broken chart'); notDefined();</script>";
    std::fs::write(
        &page,
        format!("<!DOCTYPE html><html><body>{script}</body></html>"),
    )
    .unwrap();
    let out = browse(&browser, &page, &["--dump-dom".to_string()]);
    let messages = console_messages(&out.stderr);
    assert_eq!(messages.len(), 2, "{messages:#?}");
    assert!(messages.iter().any(|m| m.contains("broken chart")));
    assert!(messages.iter().any(|m| m.contains("notDefined")));
}

#[test]
fn report_page_renders_every_chart_without_console_messages() {
    let Some(browser) = chromium() else { return };
    let tmp = tempdir();
    let page = build_report(tmp.path());
    let out = browse(&browser, &page, &["--dump-dom".to_string()]);
    assert!(out.success, "{}", out.stderr);
    assert_eq!(console_messages(&out.stderr), Vec::<String>::new());
    let dom = &out.stdout;
    assert!(
        dom.contains("6 of 6 charts rendered"),
        "the in-page check ran: {dom:.400}"
    );
    for id in [
        "roofline-1-fake-gpu-a",
        "roofline-2-fake-gpu-b",
        "comparison-2-fake-gpu-b-vs-fake-gpu-a",
        "equivalence-1-matmul-f16",
        "fleet-1-1-fleet-totals",
        "fleet-1-2-fleet-stock",
    ] {
        let figure = format!("id=\"{id}\" data-chart=");
        let at = dom
            .find(&figure)
            .unwrap_or_else(|| panic!("no figure {id}"));
        let tag_end = at + dom[at..].find('>').unwrap();
        assert!(
            dom[at..tag_end].contains("data-rendered=\"yes\""),
            "{id} not rendered"
        );
    }
}

#[test]
fn report_screenshot_is_not_blank() {
    let Some(browser) = chromium() else { return };
    let tmp = tempdir();
    let page = build_report(tmp.path());
    let shot = tmp.path().join("shot.png");
    let flags = [
        format!("--screenshot={}", shot.display()),
        "--window-size=1000,1400".to_string(),
        "--hide-scrollbars".to_string(),
    ];
    let out = browse(&browser, &page, &flags);
    assert!(out.success, "{}", out.stderr);
    let (width, height, rgba) = decode_png(&shot);
    assert_eq!((width, height), (1000, 1400));
    let pixels: Vec<&[u8]> = rgba.chunks_exact(4).collect();
    let near_white = pixels
        .iter()
        .filter(|p| p[..3].iter().all(|c| *c > 235))
        .count();
    let inked = pixels.len() - near_white;
    // Chart blue (31, 119, 180) from the roofline markers or the comparison bars.
    let blue = pixels
        .iter()
        .filter(|p| p[2] > 150 && p[0] < 90 && p[1] > 90 && p[1] < 150)
        .count();
    assert!(
        inked * 50 > pixels.len(),
        "only {inked} of {} pixels inked",
        pixels.len()
    );
    assert!(blue > 50, "no chart colour on screen ({blue} blue pixels)");
}

fn decode_png(path: &Path) -> (u32, u32, Vec<u8>) {
    let file = std::fs::File::open(path).expect("chromium wrote the screenshot");
    let mut decoder = png::Decoder::new(std::io::BufReader::new(file));
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::ALPHA);
    let mut reader = decoder.read_info().expect("the screenshot is a PNG");
    let mut buf = vec![0; reader.output_buffer_size().expect("the PNG has a size")];
    let info = reader.next_frame(&mut buf).expect("the PNG decodes");
    buf.truncate(info.buffer_size());
    assert_eq!(info.color_type, png::ColorType::Rgba, "expanded to RGBA");
    (info.width, info.height, buf)
}
