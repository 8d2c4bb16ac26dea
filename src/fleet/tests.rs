use super::*;

fn parse(text: &str) -> Result<FleetFile> {
    FleetFile::parse(Path::new("fleet.toml"), text)
}

fn one_entry(entry: &str) -> String {
    format!("version = 1\n[[fleet]]\nname = \"f\"\n[[fleet.entry]]\n{entry}\n")
}

fn error_of(text: &str) -> String {
    parse(text).unwrap_err().to_string()
}

#[test]
fn a_full_file_parses() {
    let text = r#"
version = 1
reference = "h100-sxm"
metric = "bf16"
[[fleet]]
name = "Meta"
[[fleet.entry]]
device = "h100-sxm"
count = 350000
acquired = "2024-Q4"
[[fleet.entry]]
label = "other GPUs"
equivalents = 250000
acquired = "2022-12-31"
[[fleet.claim]]
kind = "total"
total = 600000
remainder_in = "a100-sxm4-80gb"
stated = { "claimed 4:1" = 4.0 }
[[fleet.claim]]
kind = "ratio"
device = "h100-sxm"
of = "a100-sxm4-80gb"
equals = 4
mixed = ["fp8/bf16"]
[[fleet.claim]]
kind = "multiple"
total = 600000
factor = 8
of = "Tesla"
growth = 20
months = 18
[[fleet.claim]]
kind = "growth"
from = "2023-Q1"
to = "2024-Q4"
at_least = 2
"#;
    let file = parse(text).unwrap();
    assert_eq!(file.fleets[0].entries[0].whole_count(), 350_000);
    assert_eq!(file.fleets[0].claims.len(), 4);
    assert_eq!(
        file.device_ids(),
        vec!["h100-sxm", "a100-sxm4-80gb", "h100-sxm", "a100-sxm4-80gb"]
    );
    assert!(file.check_devices(&["h100-sxm", "a100-sxm4-80gb"]).is_ok());
}

#[test]
fn bad_counts_are_refused_with_the_file_named() {
    for (count, why) in [
        ("-5", "negative"),
        ("2.5", "not a whole number"),
        ("1e12", "absurdly large"),
        ("nan", "not a number"),
    ] {
        let e = error_of(&one_entry(&format!(
            "device = \"h100-sxm\"\ncount = {count}"
        )));
        assert!(
            e.starts_with("fleet.toml: fleet 'f': entry 1: count"),
            "{e}"
        );
        assert!(e.contains(why), "{e}");
    }
}

#[test]
fn malformed_entries_and_claims_are_refused() {
    let cases = [
        (
            one_entry("device = \"h100-sxm\""),
            "either device and count",
        ),
        (
            one_entry("device = \"x\"\ncount = 1\nequivalents = 3"),
            "either device",
        ),
        (one_entry("equivalents = -1"), "equivalents -1"),
        (
            one_entry("device = \"x\"\ncount = 1\nacquired = \"2023-Q7\""),
            "not a date",
        ),
        (
            one_entry("device = \"x\"\ncount = 1\ncolour = 3"),
            "line 7: unknown field `colour`",
        ),
        (
            "version = 2\n[[fleet]]\nname = \"f\"".to_string(),
            "version 2 is not supported",
        ),
        (
            "version = 1\nmetric = \"fp7\"\n[[fleet]]\nname = \"f\"".to_string(),
            "unknown metric",
        ),
    ];
    for (text, expected) in cases {
        let e = error_of(&text);
        assert!(e.contains(expected), "{e}");
        assert!(!e.contains('\n'), "{e}");
    }
    let claim = |c: &str| one_entry(&format!("device = \"x\"\ncount = 1\n[[fleet.claim]]\n{c}"));
    let e = error_of(&claim(
        "kind = \"growth\"\nfrom = \"2024-Q1\"\nto = \"2023-Q1\"",
    ));
    assert!(e.contains("is not after"), "{e}");
    let e = error_of(&claim(
        "kind = \"ratio\"\ndevice = \"a\"\nof = \"b\"\nequals = 0",
    ));
    assert!(e.contains("must be a positive number"), "{e}");
    let e = error_of(&claim(
        "kind = \"multiple\"\ntotal = 1\nfactor = 8\nof = \"t\"\ngrowth = 2",
    ));
    assert!(e.contains("growth and months together"), "{e}");
}

#[test]
fn unknown_devices_get_the_nearest_ids() {
    let file = parse(&one_entry("device = \"h100-sxm5\"\ncount = 3")).unwrap();
    let known = [
        "a100-sxm4-80gb",
        "h100-sxm",
        "h100-pcie",
        "h200-sxm",
        "mi300x",
    ];
    let e = file.check_devices(&known).unwrap_err().to_string();
    assert!(
        e.starts_with("fleet.toml: unknown device 'h100-sxm5' (nearest catalog ids: h100-sxm,"),
        "{e}"
    );
    assert_eq!(nearest_ids("mi300", &known, 1), vec!["mi300x"]);
}
