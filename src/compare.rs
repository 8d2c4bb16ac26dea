//! Cross-file comparison: match cases by workload across result files, then for each matched
//! case report the ratio of medians with a seeded bootstrap interval and a rank-test p-value, and
//! a geometric mean over the matched cases.
//!
//! Cases are matched on what was computed (kernel family, kernel, op, dtype, M/N/K), never on the
//! device. Two cases that computed the same thing but were measured differently (timing method,
//! bounds checks, kernel source) are only compared when the caller allows it, and are then
//! labelled. A case missing from some files, or not passed there, is listed, never dropped.
//!
//! # API summary (kept stable; new items are added, none renamed)
//! - [`LoadedFile`] (path, parsed file, [`DeviceIdentity`]); [`pool`] merges runs of one device.
//! - [`compare`]`(files, baseline, &CompareConfig)` → [`Comparison`]: `cases`
//!   ([`CaseComparison`]: ratio [`Interval`], [`RankTest`], `significant`, `mixed`), `geomeans`
//!   per file, `unmatched`; [`Comparison::regressions`] for `--threshold`.
//! - [`tables`] renders it; [`throughput_samples`] gives a case's per-sample throughput.

use crate::catalog::DeviceIdentity;
use crate::output::Table;
use crate::results::{Case, RateUnit, ResultFile, TimingMethod};
use crate::stats::{
    geomean_of_ratios, mann_whitney_u, ratio_of_medians, BootstrapConfig, Interval, RankTest,
    Sample,
};
use crate::workload::Workload;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// A result file with the name it is shown under and its device identity.
#[derive(Debug, Clone)]
pub struct LoadedFile {
    /// The path as given.
    pub path: PathBuf,
    /// The parsed file.
    pub file: ResultFile,
    /// The device it ran on.
    pub device: DeviceIdentity,
}

/// What a case computed: the key cases are matched on across files.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CaseKey {
    /// Kernel family.
    pub family: String,
    /// Kernel id.
    pub kernel: String,
    /// Operation, dtype and shape.
    pub workload: Workload,
}

impl CaseKey {
    /// The key of a case.
    pub fn of(case: &Case) -> CaseKey {
        CaseKey {
            family: case.kernel.family.clone(),
            kernel: case.kernel.id.clone(),
            workload: case.workload,
        }
    }

    /// `kernel/op/dtype/MxNxK`.
    pub fn label(&self) -> String {
        format!("{}/{}", self.kernel, self.workload.key())
    }
}

/// Options of a comparison.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CompareConfig {
    /// Compare cases measured differently (and label them).
    pub allow_mixed: bool,
    /// Bootstrap settings of every interval.
    pub bootstrap: BootstrapConfig,
    /// Significance level of the rank test.
    pub alpha: f64,
}

impl Default for CompareConfig {
    fn default() -> Self {
        CompareConfig {
            allow_mixed: false,
            bootstrap: BootstrapConfig::default(),
            alpha: 0.05,
        }
    }
}

/// One matched case of one file against the baseline.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseComparison {
    /// What was computed.
    pub key: CaseKey,
    /// Index of the compared file.
    pub file: usize,
    /// Unit of the medians.
    pub unit: RateUnit,
    /// Median throughput on the baseline.
    pub baseline_median: f64,
    /// Median throughput on the compared file.
    pub median: f64,
    /// Compared ÷ baseline throughput (above 1: faster than the baseline).
    pub ratio: Interval,
    /// Rank test of the two throughput samples.
    pub test: RankTest,
    /// p below alpha and the interval leaves out 1.
    pub significant: bool,
    /// What differs in how the two were measured, when they differ.
    pub mixed: Option<String>,
}

/// A case that could not be compared everywhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unmatched {
    /// What was computed.
    pub key: CaseKey,
    /// Per file: `None` when it passed there, otherwise why it cannot be compared.
    pub per_file: Vec<Option<String>>,
}

/// Everything a comparison found.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// Index of the baseline file.
    pub baseline: usize,
    /// Matched cases, by file then key.
    pub cases: Vec<CaseComparison>,
    /// Per file (baseline excluded): geometric mean of the ratios over its matched cases.
    pub geomeans: BTreeMap<usize, Interval>,
    /// Cases not comparable in every file, with the reason per file.
    pub unmatched: Vec<Unmatched>,
}

impl Comparison {
    /// Cases slower than the baseline by more than `threshold` (a fraction, 0.05 = 5%) and
    /// significantly so.
    pub fn regressions(&self, threshold: f64) -> Vec<&CaseComparison> {
        self.cases
            .iter()
            .filter(|c| c.significant && c.ratio.value < 1.0 - threshold)
            .collect()
    }
}

/// Per-sample throughput of a passed case, from its headline clock.
pub fn throughput_samples(case: &Case) -> Option<(RateUnit, Vec<f64>)> {
    case.passed_throughput()?;
    let timing = case.timing.as_ref()?;
    let seconds = match timing.headline {
        TimingMethod::GpuTimestamps => timing.gpu_s.as_ref()?,
        TimingMethod::HostClock => &timing.host_s,
    };
    let (unit, work) = RateUnit::of(&case.workload);
    Some((unit, seconds.iter().map(|s| work / s).collect()))
}

/// How two cases' measurement differs, if it does.
pub fn measurement_difference(a: &Case, b: &Case) -> Option<String> {
    let mut diffs = Vec::new();
    let method = |c: &Case| c.timing.as_ref().map(|t| t.headline);
    if method(a) != method(b) {
        diffs.push("timing method");
    }
    if a.kernel.bounds_checks != b.kernel.bounds_checks {
        diffs.push("bounds checks");
    }
    if a.kernel.source_hash != b.kernel.source_hash {
        diffs.push("kernel source");
    }
    (!diffs.is_empty()).then(|| format!("differs in {}", diffs.join(", ")))
}

/// Throughput samples of one case in one file, or why there are none.
type Usable<'a> = Result<(&'a Case, RateUnit, Sample), String>;

fn usable<'a>(case: Option<&&'a Case>) -> Usable<'a> {
    let Some(case) = case.copied() else {
        return Err("absent".to_string());
    };
    let Some((unit, values)) = throughput_samples(case) else {
        return Err(format!("{:?}", case.status).to_lowercase());
    };
    let sample = Sample::new(&values).map_err(|e| format!("unusable samples ({e})"))?;
    Ok((case, unit, sample))
}

/// Compares every file against `files[baseline]`.
pub fn compare(files: &[LoadedFile], baseline: usize, config: &CompareConfig) -> Comparison {
    let indexed: Vec<BTreeMap<CaseKey, &Case>> = files.iter().map(|f| index(&f.file)).collect();
    let keys: std::collections::BTreeSet<CaseKey> =
        indexed.iter().flat_map(|m| m.keys().cloned()).collect();
    let mut out = Comparison {
        baseline,
        cases: Vec::new(),
        geomeans: BTreeMap::new(),
        unmatched: Vec::new(),
    };
    let mut pairs: BTreeMap<usize, Vec<(Sample, Sample)>> = BTreeMap::new();
    for key in keys {
        let cells: Vec<Usable> = indexed.iter().map(|m| usable(m.get(&key))).collect();
        let mut per_file: Vec<Option<String>> =
            cells.iter().map(|c| c.as_ref().err().cloned()).collect();
        if let Ok(base) = &cells[baseline] {
            for (i, cell) in cells.iter().enumerate() {
                let Ok(other) = cell else { continue };
                if i == baseline {
                    continue;
                }
                let mixed = measurement_difference(base.0, other.0);
                if mixed.is_some() && !config.allow_mixed {
                    per_file[i] = mixed.map(|m| format!("measured differently ({m})"));
                    continue;
                }
                out.cases
                    .push(compare_case(&key, i, base, other, mixed, config));
                pairs
                    .entry(i)
                    .or_default()
                    .push((other.2.clone(), base.2.clone()));
            }
        }
        if per_file.iter().any(Option::is_some) {
            out.unmatched.push(Unmatched { key, per_file });
        }
    }
    for (file, samples) in pairs {
        let refs: Vec<(&Sample, &Sample)> = samples.iter().map(|(a, b)| (a, b)).collect();
        out.geomeans
            .insert(file, geomean_of_ratios(&refs, &config.bootstrap));
    }
    out.cases
        .sort_by(|a, b| (a.file, &a.key).cmp(&(b.file, &b.key)));
    out
}

fn index(file: &ResultFile) -> BTreeMap<CaseKey, &Case> {
    let mut map = BTreeMap::new();
    for case in &file.cases {
        map.entry(CaseKey::of(case)).or_insert(case);
    }
    map
}

fn compare_case(
    key: &CaseKey,
    file: usize,
    base: &(&Case, RateUnit, Sample),
    other: &(&Case, RateUnit, Sample),
    mixed: Option<String>,
    config: &CompareConfig,
) -> CaseComparison {
    let ratio = ratio_of_medians(&other.2, &base.2, &config.bootstrap);
    let test = mann_whitney_u(&other.2, &base.2);
    CaseComparison {
        key: key.clone(),
        file,
        unit: base.1,
        baseline_median: base.2.median(),
        median: other.2.median(),
        significant: test.p < config.alpha && ratio.excludes(1.0),
        ratio,
        test,
        mixed,
    }
}

/// Pools several result files of one device into one: the raw samples of matching cases
/// (same key, measured the same way) are concatenated, other cases are kept as they are. Used
/// to merge interleaved runs, so slow drift of a shared machine hits both sides of a comparison
/// alike. The pooled file keeps the first file's machine record; the path joins all paths
/// with `+`.
pub fn pool(group: Vec<LoadedFile>) -> Option<LoadedFile> {
    let mut iter = group.into_iter();
    let mut pooled = iter.next()?;
    for next in iter {
        pooled.path = PathBuf::from(format!("{}+{}", pooled.path.display(), next.path.display()));
        for case in next.file.cases {
            let key = CaseKey::of(&case);
            let target = pooled.file.cases.iter_mut().find(|c| CaseKey::of(c) == key);
            match target {
                Some(t) if measurement_difference(t, &case).is_none() => append_samples(t, &case),
                Some(_) => {}
                None => pooled.file.cases.push(case),
            }
        }
    }
    Some(pooled)
}

fn append_samples(into: &mut Case, from: &Case) {
    if throughput_samples(into).is_none() || throughput_samples(from).is_none() {
        return;
    }
    let (Some(to), Some(src)) = (into.timing.as_mut(), from.timing.as_ref()) else {
        return;
    };
    to.host_s.extend_from_slice(&src.host_s);
    if let (Some(a), Some(b)) = (to.gpu_s.as_mut(), src.gpu_s.as_ref()) {
        a.extend_from_slice(b);
    }
}

/// The tables `fleetbench compare` prints.
#[derive(Debug, Clone, PartialEq)]
pub struct CompareTables {
    /// One row per matched case and file.
    pub cases: Table,
    /// One row per compared file.
    pub geomeans: Table,
    /// One row per case not compared everywhere, one column per file.
    pub unmatched: Table,
}

/// Renders a comparison as tables; "~" marks a difference that is not significant.
pub fn tables(files: &[LoadedFile], c: &Comparison) -> CompareTables {
    let name = |i: usize| files[i].path.display().to_string();
    let device = |i: usize| {
        let d = &files[i].device;
        if d.matched {
            d.id.clone()
        } else {
            format!("{} (not in catalog)", d.id)
        }
    };
    let mut cases = Table::new(&[
        "case", "file", "device", "unit", "baseline", "median", "ratio", "95% CI", "p", "verdict",
        "note",
    ]);
    for r in &c.cases {
        cases.push(vec![
            r.key.label(),
            name(r.file),
            device(r.file),
            r.unit.label().to_string(),
            format!("{:.4}", r.baseline_median),
            format!("{:.4}", r.median),
            format!("{:.3}", r.ratio.value),
            format!("[{:.3}, {:.3}]", r.ratio.low, r.ratio.high),
            format!("{:.2e}", r.test.p),
            verdict(r.significant, r.ratio.value).to_string(),
            r.mixed
                .clone()
                .map_or(String::new(), |m| format!("measured differently: {m}")),
        ]);
    }
    let mut geomeans = Table::new(&[
        "file",
        "device",
        "cases",
        "geomean ratio",
        "95% CI",
        "verdict",
    ]);
    for (file, g) in &c.geomeans {
        let n = c.cases.iter().filter(|r| r.file == *file).count();
        geomeans.push(vec![
            name(*file),
            device(*file),
            n.to_string(),
            format!("{:.3}", g.value),
            format!("[{:.3}, {:.3}]", g.low, g.high),
            verdict(geomean_significant(c, *file, g), g.value).to_string(),
        ]);
    }
    let mut headers = vec!["case".to_string()];
    headers.extend((0..files.len()).map(name));
    let mut unmatched = Table {
        headers,
        rows: Vec::new(),
    };
    for u in &c.unmatched {
        let mut row = vec![u.key.label()];
        row.extend(
            u.per_file
                .iter()
                .map(|r| r.clone().unwrap_or_else(|| "ok".to_string())),
        );
        unmatched.push(row);
    }
    CompareTables {
        cases,
        geomeans,
        unmatched,
    }
}

/// A geometric mean is significant when its interval leaves out 1 and at least one of its cases
/// is significant by both tests, so it never claims more than its cases do.
pub fn geomean_significant(c: &Comparison, file: usize, g: &Interval) -> bool {
    g.excludes(1.0) && c.cases.iter().any(|r| r.file == file && r.significant)
}

fn verdict(significant: bool, ratio: f64) -> &'static str {
    match (significant, ratio >= 1.0) {
        (false, _) => "~",
        (true, true) => "faster",
        (true, false) => "slower",
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::bench::{Backend, CaseSpec, TimingConfig};
    use crate::fake::{fake_adapter, FakeBackend};
    use crate::results::RunInfo;
    use crate::workload::Dtype;

    /// A fake result file: `rate` GFLOP/s with 3% noise on square f32 matmuls of the given sides.
    pub(crate) fn fake_file(name: &str, rate: f64, seed: u64, sides: &[u64]) -> LoadedFile {
        let mut backend = FakeBackend::new(name, rate, 0.03, seed);
        let timing = TimingConfig {
            samples: 15,
            ..TimingConfig::default()
        };
        let kernel = crate::kernels::default_matmul_configs().remove(0);
        let cases = sides
            .iter()
            .map(|s| {
                let spec = CaseSpec {
                    workload: Workload::matmul(Dtype::F32, *s, *s, *s),
                    kernel: kernel.clone(),
                    seed,
                };
                backend.run_case(&spec, &timing)
            })
            .collect();
        let mut run = RunInfo::new(format!("{name}-{seed}"), seed, 15);
        run.complete = true;
        let machine = crate::machine::describe(fake_adapter(name), "test");
        let file = ResultFile {
            cases,
            ..ResultFile::new(machine, run)
        };
        let device = DeviceIdentity {
            id: crate::results::slug(name),
            name: name.to_string(),
            matched: false,
        };
        LoadedFile {
            path: PathBuf::from(format!("{name}-{seed}.json")),
            file,
            device,
        }
    }

    #[test]
    fn finds_a_known_ratio_and_no_difference_where_there_is_none() {
        let base = fake_file("a", 100.0, 1, &[64, 128]);
        let fast = fake_file("b", 200.0, 2, &[64, 128]);
        let same = fake_file("a", 100.0, 3, &[64, 128]);
        let files = [base, fast, same];
        let c = compare(&files, 0, &CompareConfig::default());
        assert_eq!(c.cases.len(), 4);
        assert!(c.unmatched.is_empty());
        for case in c.cases.iter().filter(|c| c.file == 1) {
            assert!(case.significant && case.ratio.low < 2.0 && 2.0 < case.ratio.high);
        }
        for case in c.cases.iter().filter(|c| c.file == 2) {
            assert!(!case.significant, "{case:?}");
        }
        let g = c.geomeans[&1];
        assert!((g.value - 2.0).abs() < 0.05, "{g:?}");
        assert!(c.regressions(0.05).is_empty());
        // Seen from the fast file, both slow files are 50% regressions.
        let back = compare(&files, 1, &CompareConfig::default());
        assert_eq!(back.regressions(0.4).len(), 4);
        assert!(back.regressions(0.6).is_empty());
        // Same seed, same interval.
        assert_eq!(c, compare(&files, 0, &CompareConfig::default()));
    }

    #[test]
    fn unmatched_and_differently_measured_cases_are_listed() {
        let base = fake_file("a", 100.0, 1, &[64, 128]);
        let mut other = fake_file("b", 100.0, 2, &[64, 256]);
        other.file.cases[0].kernel.bounds_checks = !other.file.cases[0].kernel.bounds_checks;
        let files = [base, other];
        let c = compare(&files, 0, &CompareConfig::default());
        assert!(c.cases.is_empty());
        let reasons: Vec<String> = c
            .unmatched
            .iter()
            .map(|u| format!("{}: {:?}", u.key.label(), u.per_file))
            .collect();
        assert_eq!(c.unmatched.len(), 3, "{reasons:?}");
        assert!(reasons[0].contains("bounds checks"), "{reasons:?}");
        let allowed = CompareConfig {
            allow_mixed: true,
            ..CompareConfig::default()
        };
        let c = compare(&files, 0, &allowed);
        assert_eq!(c.cases.len(), 1);
        assert!(c.cases[0]
            .mixed
            .as_deref()
            .unwrap()
            .contains("bounds checks"));
    }

    #[test]
    fn pooling_concatenates_samples_of_matching_cases() {
        let a = fake_file("a", 100.0, 1, &[64]);
        let b = fake_file("a", 100.0, 2, &[64, 128]);
        let pooled = pool(vec![a, b]).unwrap();
        assert_eq!(pooled.file.cases.len(), 2);
        assert_eq!(
            pooled.file.cases[0].timing.as_ref().unwrap().host_s.len(),
            30
        );
        assert_eq!(pooled.path, PathBuf::from("a-1.json+a-2.json"));
        assert!(pool(Vec::new()).is_none());
    }

    #[test]
    fn tables_mark_not_significant_differences_with_a_tilde() {
        let files = [
            fake_file("a", 100.0, 1, &[64]),
            fake_file("a", 100.0, 2, &[64]),
            fake_file("b", 50.0, 3, &[64, 128]),
        ];
        let c = compare(&files, 0, &CompareConfig::default());
        let t = tables(&files, &c);
        let verdicts: Vec<&str> = t.cases.rows.iter().map(|r| r[9].as_str()).collect();
        assert_eq!(verdicts, ["~", "slower"]);
        let geo: Vec<&str> = t.geomeans.rows.iter().map(|r| r[5].as_str()).collect();
        assert_eq!(geo, ["~", "slower"]);
        assert_eq!(
            t.unmatched.rows,
            [[
                "matmul_naive/matmul/f32/128x128x128",
                "absent",
                "absent",
                "ok"
            ]]
        );
        assert!(t.cases.rows[0][2].ends_with("(not in catalog)"));
    }
}
