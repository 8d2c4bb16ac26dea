//! `store regressions`: each unit's latest run against its own history and against its
//! model's population (see [`super::analysis`] for why both, and the tests).
//!
//! **A shift the whole population shares is not a regression of each unit.** Runs minutes
//! apart on one busy host differ by 20–50%, and a fleet moves together too (a loaded shared
//! host, a room's temperature, a fleet-wide driver or firmware change): tested on its raw
//! figures, every unit's latest run would then look slower than its own past, and every unit
//! would be named. So before the own-history test, each run's figure is divided by its
//! *period's* reference: the median figure, at the same model, metric and shape, of the runs of
//! other units nearest to it in time (up to [`PERIOD_PEERS`] of them, at least
//! [`MIN_PERIOD_PEERS`]). What is tested is then how the unit moved against the fleet of the
//! same moment: the shared shift cancels, and the run-to-run spread left in the baseline is
//! the unit's own, which is much smaller than the host's drift, so a unit slowed on its own
//! (a failing fan, `LP_NUM_THREADS=1`) stands out sooner. A unit with too few peers is tested
//! on its raw figures, and says so (`against_period` false). The population test compares the
//! latest figures of the units, which come from one period already. A shift the fleet shares
//! is for `store history --device` to show (and its change points), not for a unit's verdict.
//!
//! The figures stream one unit at a time from the store's `unit_runs` table (a row per run
//! with the run's unit and names and its figures packed, clustered in unit order and kept by
//! ingest; see [`super::packed`] and migration 4 in [`super::schema`]), so the scan reads one
//! table in key order, a row per run, instead of joining runs with their figures or reading a
//! row per figure. Memory holds the findings, each tested unit's series of log figures, and one
//! small point (time, unit, log figure) per stored figure for the period references, never the
//! stored rows themselves; the unit being read keeps its figures as numbers, with names as ids
//! (the store's name ids mapped to the reader's own, a run's k-th figure checked first against
//! the k-th figure of the run before).
//!
//! Reading and testing overlap on two threads: the calling thread, which holds the store's
//! connection, decodes the rows into whole units and makes each unit's findings, and hands
//! them in batches to a second thread that adds each unit's figures to the period index (with
//! a row per figure, the reading was most of the time and the findings were made on the
//! second thread; packed, reading is the smaller half, so the findings moved to balance them). A run's period reference needs every other unit's
//! runs, so the own-history tests wait for the last unit; they are split over two threads too.

use super::analysis::{
    change_points, mean, std_dev, ChangePoint, RegressionSettings, SPREAD_FLOOR,
};
use super::model::{FigureRow, RunFilter, SeriesRef, SeriesRun, SeriesRunRef};
use super::packed::NameDictionary;
use super::Database;
use crate::error::Result;
use crate::stats::{median_of_sorted, student_t_sf};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::sync::mpsc;

/// What a unit's latest figure of a metric says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Slower than its own history or its population, beyond the minimum and significantly.
    Regressed,
    /// Faster than its own history, beyond the minimum and significantly.
    Faster,
    /// Neither.
    Steady,
    /// Too few earlier runs and too small a population to test.
    Untested,
}

impl Verdict {
    /// The word in tables.
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Regressed => "regressed",
            Verdict::Faster => "faster",
            Verdict::Steady => "steady",
            Verdict::Untested => "untested",
        }
    }
}

/// The latest figure against the unit's own earlier runs.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct OwnHistoryTest {
    /// Earlier runs in the baseline (since the last change point).
    pub runs: usize,
    /// Geometric mean of the baseline runs' figures.
    pub baseline: f64,
    /// latest ÷ baseline, as measured.
    pub raw_ratio: f64,
    /// True when every figure of the series was first divided by its period's reference (the
    /// median of other units' runs nearest in time; see the module docs), so a shift the whole
    /// population shares cancels; false when too few other units had runs to form one.
    pub against_period: bool,
    /// The tested ratio: latest ÷ baseline, each relative to its period when `against_period`.
    pub ratio: f64,
    /// Spread between the baseline runs: standard deviation of the tested log figures
    /// (≈ relative).
    pub between_run_spread: f64,
    /// The t statistic of the prediction test.
    pub t: f64,
    /// One-sided p of "slower" (of "faster" when the ratio is above 1).
    pub p: f64,
    /// Slower beyond the minimum change, significantly.
    pub regressed: bool,
    /// Faster beyond the minimum change, significantly.
    pub faster: bool,
}

/// The latest figure against the latest figures of every unit of the same model.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct PopulationTest {
    /// Units of the model with this metric and shape.
    pub units: usize,
    /// Their median figure.
    pub median: f64,
    /// latest ÷ that median.
    pub ratio: f64,
    /// (log latest − log median) ÷ (1.4826 · MAD of the logs).
    pub robust_z: f64,
    /// Below the median beyond the minimum change and the z limit.
    pub regressed: bool,
}

/// One unit and metric.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Finding {
    /// Host name.
    pub host: String,
    /// GPU index.
    pub gpu_index: i64,
    /// Device model.
    pub device: String,
    /// Driver of the latest run.
    pub driver: String,
    /// The latest run's id.
    pub run_id: String,
    /// When it started.
    pub started_at: String,
    /// The metric.
    pub metric: String,
    /// The workload tested: the latest run's best shape of the metric.
    pub shape: String,
    /// Unit of the figures.
    pub unit: String,
    /// The latest figure.
    pub latest: f64,
    /// Against the unit's own history, when it has enough runs.
    pub own: Option<OwnHistoryTest>,
    /// Against the model's population, when it has enough units.
    pub population: Option<PopulationTest>,
    /// Steps on the unit's series at this shape.
    pub change_points: Vec<ChangePoint>,
    /// The verdict.
    pub verdict: Verdict,
}

/// The answer of `store regressions`.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct RegressionReport {
    /// The thresholds used.
    pub settings: RegressionSettings,
    /// Units examined.
    pub units: usize,
    /// Unit-and-metric series examined.
    pub series: usize,
    /// Of them, how many regressed.
    pub regressed: usize,
    /// The findings shown: the regressions, or every series when all were asked for.
    pub findings: Vec<Finding>,
}

impl RegressionReport {
    /// Keeps only the regressions among the findings.
    pub fn keep_regressions(&mut self) {
        self.findings.retain(|f| f.verdict == Verdict::Regressed);
    }
}

/// Every unit of `filter`, tested; see the module docs.
pub fn regressions(
    db: &mut dyn Database,
    filter: &RunFilter,
    settings: &RegressionSettings,
) -> Result<RegressionReport> {
    std::thread::scope(|scope| {
        let (sender, receiver) = mpsc::sync_channel::<Vec<UnitBatch>>(MESSAGES_IN_FLIGHT);
        let (give_back, returned) = mpsc::channel::<Vec<Spent>>();
        let analysis = scope.spawn(move || {
            let mut analysis = UnitAnalysis::new(*settings);
            for message in receiver {
                let spent = message.into_iter().map(|b| analysis.add(b)).collect();
                // The reader may have finished: then the units are dropped here.
                let _ = give_back.send(spent);
            }
            analysis
        });
        let mut reader = UnitReader::new(*settings);
        let mut read = Vec::with_capacity(UNITS_PER_MESSAGE);
        let location = db.location().to_string();
        // A failed send means the analysis thread panicked: its join below passes that on.
        let scanned = db.for_each_series(filter, &mut |run| {
            let closed = reader
                .add_run(run)
                .map_err(|why| super::packed::damaged(&location, run.key, &why))?;
            if let Some(batch) = closed {
                read.push(batch);
                if read.len() == UNITS_PER_MESSAGE {
                    let full = std::mem::replace(&mut read, Vec::with_capacity(UNITS_PER_MESSAGE));
                    let _ = sender.send(full);
                    for (unit, found) in returned.try_iter().flatten() {
                        reader.spare.push(unit);
                        reader.spare_found.push(found);
                    }
                }
            }
            Ok(())
        });
        read.extend(reader.close());
        let _ = sender.send(read);
        drop(sender);
        let analysis = analysis
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        scanned?;
        Ok(analysis.finish())
    })
}

/// Units passed to the analysis thread of [`regressions`] at once: a handoff per unit woke
/// the other thread 12,500 times over 100,000 runs and cost more than it overlapped.
const UNITS_PER_MESSAGE: usize = 64;

/// Messages read but not yet analysed, at most: enough that neither thread waits on the
/// other's uneven units, few enough to hold little memory (a unit of eight default runs is
/// about a thousand points).
const MESSAGES_IN_FLIGHT: usize = 4;

/// Other units' runs, nearest in time, whose median figure is a run's period reference: enough
/// for a robust median, few enough to come from the same moment in a large fleet.
pub const PERIOD_PEERS: usize = 15;

/// Fewest runs of other units a period reference needs: with one or two, a peer's own slowdown
/// would read as this unit's speed-up (the median of three outvotes one odd peer).
pub const MIN_PERIOD_PEERS: usize = 3;

/// The test of a whole fleet, fed figure rows one unit after another (the order of
/// [`Database::for_each_series`]). Each unit's findings are made when its rows end; their
/// own-history tests wait for [`FleetTest::finish`], when every unit's figures are in the
/// period index.
///
/// A store of 100,000 runs has well over a million figure rows, so a row is not kept as it
/// comes: the unit being read keeps each run's names once (`RunInfo`) and each figure as
/// numbers (`Point`, its metric, shape and rate unit as ids of `Names`).
///
/// The work has two halves, `UnitReader` (rows to a unit's figures and its findings) and
/// `UnitAnalysis` (a unit's period points, then the report); [`regressions`] runs them on two
/// threads, passing the units read in batches; this type runs them in turn on one.
pub struct FleetTest {
    reader: UnitReader,
    analysis: UnitAnalysis,
}

/// Reads figure rows into the unit they belong to, and gives each unit whole once its rows
/// end, with its findings (own-history tests still to make): the half of [`FleetTest`] that
/// follows the store's rows. Making the findings here rather than on the analysis side
/// balances the two threads of [`regressions`]: with the figures packed, reading costs less
/// than the period index.
struct UnitReader {
    settings: RegressionSettings,
    /// Units the analysis is done with, to read the next ones into: their buffers are reused,
    /// so no unit's memory is allocated on one thread and freed on the other (which made the
    /// two threads contend for the allocator's locks).
    spare: Vec<UnitFigures>,
    /// Lists of findings, emptied, likewise.
    spare_found: Vec<Vec<(Finding, Series)>>,
    names: Names,
    /// Device models by id, the first part of a [`FigureKey`].
    devices: HashMap<String, u32>,
    unit: UnitFigures,
}

/// A unit and its list of findings once the analysis is done with them (see
/// `UnitReader::spare`).
type Spent = (UnitFigures, Vec<(Finding, Series)>);

/// One unit read whole, with its model's id and its findings: the analysis side needs no
/// names (its keys are the reader's ids).
struct UnitBatch {
    unit: UnitFigures,
    device: u32,
    found: Vec<(Finding, Series)>,
}

/// Tests units as they come (in the store's unit order, which numbers them) and makes the
/// report at the end, when every unit's figures are in the period index.
struct UnitAnalysis {
    settings: RegressionSettings,
    units: usize,
    pending: Vec<(Finding, Series)>,
    periods: PeriodIndex,
}

/// One tested unit's series at its finding's shape, oldest first: start times and log figures.
struct Series {
    unit: usize,
    /// Its model, metric and shape: where its period references and population are.
    key: FigureKey,
    started_s: Vec<i64>,
    logs: Vec<f64>,
    within: f64,
}

/// Text that repeats on every figure row (metric, shape, rate unit), kept once and named by
/// an id. Every run of a fleet lists much the same figures in the same order, so the names
/// of a run's k-th figure are first compared with those of the k-th figure of the run before
/// (three short comparisons), and only looked up when they differ.
#[derive(Default)]
struct Names {
    table: NameTable,
    ids: HashMap<String, u32>,
    /// By position in a run: the names and ids seen there last.
    recent: Vec<([String; 3], [u32; 3])>,
    /// The same for packed runs: the store's ids seen there last, and the reader's ids.
    recent_stored: Vec<([u32; 3], [u32; 3])>,
}

impl Names {
    /// The ids of a packed run's `position`-th figure from the store's ids `stored` (metric,
    /// shape, rate unit), looked up in `dictionary` only when they differ from those of the
    /// same position in the run before; an id the store does not name is an error.
    fn stored(
        &mut self,
        position: usize,
        stored: [u32; 3],
        dictionary: &NameDictionary,
    ) -> std::result::Result<[u32; 3], String> {
        if let Some((seen, ids)) = self.recent_stored.get(position) {
            if *seen == stored {
                return Ok(*ids);
            }
        }
        let mut ids = [0; 3];
        for (id, stored) in ids.iter_mut().zip(stored) {
            let name = dictionary
                .name(stored)
                .ok_or_else(|| format!("name id {stored} is not in the store's series names"))?;
            *id = self.id(name);
        }
        if position < self.recent_stored.len() {
            self.recent_stored[position] = (stored, ids);
        } else {
            self.recent_stored.push((stored, ids));
        }
        Ok(ids)
    }

    /// The ids of the metric, shape and rate unit of a run's `position`-th figure, given now
    /// where they are new.
    fn figure(&mut self, position: usize, metric: &str, shape: &str, rate: &str) -> [u32; 3] {
        let text = [metric, shape, rate];
        if let Some((names, ids)) = self.recent.get(position) {
            if names.iter().zip(text).all(|(a, b)| a == b) {
                return *ids;
            }
        }
        let ids = text.map(|name| self.id(name));
        let entry = (text.map(str::to_string), ids);
        if position < self.recent.len() {
            self.recent[position] = entry;
        } else {
            self.recent.push(entry);
        }
        ids
    }

    fn id(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.ids.get(name) {
            return id;
        }
        let id = self.table.0.len() as u32;
        self.table.0.push(name.to_string());
        self.ids.insert(name.to_string(), id);
        id
    }
}

/// The names of [`Names`] by id: what a unit's findings need of them.
#[derive(Default)]
struct NameTable(Vec<String>);

impl NameTable {
    fn name(&self, id: u32) -> &str {
        &self.0[id as usize]
    }
}

/// One run of the unit being read: what its findings and change points name. Its texts are
/// ranges of the unit's `texts` (one string a unit rather than three a run: 100,000 runs made
/// 300,000 small strings, most never used).
struct RunInfo {
    key: i64,
    started_s: i64,
    run_id: std::ops::Range<usize>,
    started_at: std::ops::Range<usize>,
    driver: std::ops::Range<usize>,
}

/// One figure of the unit being read: its run (an index into the unit's runs), its metric,
/// shape and rate unit (ids of [`Names`]) and its median with interval.
#[derive(Debug, Clone, Copy)]
struct Point {
    run: usize,
    metric: u32,
    shape: u32,
    rate: u32,
    median: f64,
    low: f64,
    high: f64,
}

/// The unit being read (host, GPU index, device) with its runs and figures.
#[derive(Default)]
struct UnitFigures {
    host: String,
    gpu_index: i64,
    device: String,
    runs: Vec<RunInfo>,
    /// The runs' run ids, starts and drivers, one after another.
    texts: String,
    points: Vec<Point>,
    /// Where the last run's points begin.
    run_start: usize,
}

impl UnitFigures {
    fn of(run: &SeriesRun<'_>) -> Self {
        UnitFigures {
            host: run.host.to_string(),
            gpu_index: run.gpu_index,
            device: run.device.to_string(),
            ..UnitFigures::default()
        }
    }

    /// Empties the unit, keeping its buffers, for the unit of `run`.
    fn reuse_for(&mut self, run: &SeriesRun<'_>) {
        self.host.clear();
        self.host.push_str(run.host);
        self.gpu_index = run.gpu_index;
        self.device.clear();
        self.device.push_str(run.device);
        self.runs.clear();
        self.texts.clear();
        self.points.clear();
        self.run_start = 0;
    }

    fn holds(&self, run: &SeriesRun<'_>) -> bool {
        self.host == run.host && self.gpu_index == run.gpu_index && self.device == run.device
    }

    /// A text of one of the unit's runs.
    fn text(&self, range: &std::ops::Range<usize>) -> &str {
        self.texts.get(range.clone()).unwrap_or_default()
    }

    /// Appends `text` to the unit's texts, giving its range.
    fn keep(&mut self, text: &str) -> std::ops::Range<usize> {
        let start = self.texts.len();
        self.texts.push_str(text);
        start..self.texts.len()
    }

    /// The start time and key of a point's run: what orders runs.
    fn when(&self, point: &Point) -> (i64, i64) {
        let run = &self.runs[point.run];
        (run.started_s, run.key)
    }
}

impl FleetTest {
    /// An empty test at `settings`.
    pub fn new(settings: RegressionSettings) -> Self {
        FleetTest {
            reader: UnitReader::new(settings),
            analysis: UnitAnalysis::new(settings),
        }
    }

    /// Takes the next figure row; a row of another unit closes the previous unit.
    pub fn add(&mut self, row: FigureRow) {
        self.add_figure(&SeriesRef::from(&row));
    }

    /// [`FleetTest::add`] of a borrowed series row: only what the tests need is copied out.
    /// A row without its run's names belongs to the run of the row before it.
    pub fn add_figure(&mut self, row: &SeriesRef<'_>) {
        if let Some(batch) = self.reader.add_figure(row) {
            let (unit, found) = self.analysis.add(batch);
            self.reader.spare.push(unit);
            self.reader.spare_found.push(found);
        }
    }

    /// Every finding with its verdict, regressions first.
    pub fn finish(mut self) -> RegressionReport {
        if let Some(batch) = self.reader.close() {
            self.analysis.add(batch);
        }
        self.analysis.finish()
    }
}

impl UnitReader {
    fn new(settings: RegressionSettings) -> Self {
        UnitReader {
            settings,
            spare: Vec::new(),
            spare_found: Vec::new(),
            names: Names::default(),
            devices: HashMap::new(),
            unit: UnitFigures::default(),
        }
    }

    /// Takes the next packed run; a run of another unit gives the previous unit back. A name id
    /// the store does not name is an error.
    fn add_run(
        &mut self,
        row: &SeriesRunRef<'_>,
    ) -> std::result::Result<Option<UnitBatch>, String> {
        let closed = self.start_run(row.key, row.started_s, &row.run);
        let run = self.unit.runs.len() - 1;
        self.unit.points.reserve(row.figures.len());
        for (position, f) in row.figures.iter().enumerate() {
            let [metric, shape, rate] =
                self.names
                    .stored(position, [f.metric, f.shape, f.unit], row.names)?;
            self.unit.points.push(Point {
                run,
                metric,
                shape,
                rate,
                median: f.median,
                low: f.low,
                high: f.high,
            });
        }
        Ok(closed)
    }

    /// Starts the points of run `key` (if the last run is another), of the unit of `run`: a
    /// run of another unit gives the previous unit back.
    fn start_run(&mut self, key: i64, started_s: i64, run: &SeriesRun<'_>) -> Option<UnitBatch> {
        let mut closed = None;
        if !self.unit.holds(run) {
            closed = self.close();
            self.unit = match self.spare.pop() {
                Some(mut unit) => {
                    unit.reuse_for(run);
                    unit
                }
                None => UnitFigures::of(run),
            };
        }
        if self.unit.runs.last().is_none_or(|r| r.key != key) {
            self.unit.run_start = self.unit.points.len();
            let run_id = self.unit.keep(run.run_id);
            let started_at = self.unit.keep(run.started_at);
            let driver = self.unit.keep(run.driver);
            self.unit.runs.push(RunInfo {
                key,
                started_s,
                run_id,
                started_at,
                driver,
            });
        }
        closed
    }

    /// Takes the next figure row; a row of another unit gives the previous unit back.
    fn add_figure(&mut self, row: &SeriesRef<'_>) -> Option<UnitBatch> {
        let closed = match &row.run {
            Some(run) => self.start_run(row.key, row.started_s, run),
            None => None,
        };
        let Some(run) = self.unit.runs.len().checked_sub(1) else {
            debug_assert!(false, "a series row without its run's names came first");
            return closed;
        };
        let position = self.unit.points.len() - self.unit.run_start;
        let [metric, shape, rate] = self.names.figure(position, row.metric, row.shape, row.unit);
        self.unit.points.push(Point {
            run,
            metric,
            shape,
            rate,
            median: row.median,
            low: row.low,
            high: row.high,
        });
        closed
    }

    /// The unit being read, if it has figures, with its findings.
    fn close(&mut self) -> Option<UnitBatch> {
        let unit = std::mem::take(&mut self.unit);
        if unit.points.is_empty() {
            return None;
        }
        let device = match self.devices.get(&unit.device) {
            Some(&id) => id,
            None => {
                let id = self.devices.len() as u32;
                self.devices.insert(unit.device.clone(), id);
                id
            }
        };
        let mut found = self.spare_found.pop().unwrap_or_default();
        found.extend(test_unit(&unit, device, &self.names.table, &self.settings));
        Some(UnitBatch {
            unit,
            device,
            found,
        })
    }
}

impl UnitAnalysis {
    fn new(settings: RegressionSettings) -> Self {
        UnitAnalysis {
            settings,
            units: 0,
            pending: Vec::new(),
            periods: PeriodIndex::default(),
        }
    }

    /// The next unit: its period points, and its findings with their own-history tests left
    /// for [`UnitAnalysis::finish`]; gives the unit and its emptied list of findings back, for
    /// their buffers to be reused.
    fn add(&mut self, mut batch: UnitBatch) -> Spent {
        let index = self.units;
        self.periods.add_unit(&batch.unit, batch.device, index);
        self.pending.extend(batch.found.drain(..).map(|(f, mut s)| {
            s.unit = index;
            (f, s)
        }));
        self.units += 1;
        (batch.unit, batch.found)
    }

    /// Every finding with its verdict, regressions first.
    fn finish(mut self) -> RegressionReport {
        self.periods.sort();
        let settings = self.settings;
        let mut pending = self.pending;
        let periods = &self.periods;
        let half = pending.len() / 2;
        std::thread::scope(|scope| {
            let (first, second) = pending.split_at_mut(half);
            let helper = scope.spawn(|| test_own_histories(first, periods, &settings));
            test_own_histories(second, periods, &settings);
            helper
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        });
        apply_population(&mut pending, &settings);
        let mut findings: Vec<Finding> = pending.into_iter().map(|(f, _)| f).collect();
        for f in &mut findings {
            f.verdict = verdict(f);
        }
        findings.sort_by(|a, b| {
            (a.verdict, &a.device, &a.host, a.gpu_index, &a.metric).cmp(&(
                b.verdict,
                &b.device,
                &b.host,
                b.gpu_index,
                &b.metric,
            ))
        });
        RegressionReport {
            settings,
            units: self.units,
            series: findings.len(),
            regressed: findings
                .iter()
                .filter(|f| f.verdict == Verdict::Regressed)
                .count(),
            findings,
        }
    }
}

/// Model, metric and shape: the figures that are comparable across units. As ids (the model of
/// `UnitReader::devices`, metric and shape of its `Names`), each one name, so a key is
/// three numbers to hash rather than three strings to copy and hash.
type FigureKey = (u32, u32, u32);

/// Every stored figure as (start time, unit, log figure), per model, metric and shape, with
/// how many units have figures there.
#[derive(Default)]
struct PeriodIndex {
    points: HashMap<FigureKey, PeriodPoints>,
}

#[derive(Default)]
struct PeriodPoints {
    points: Vec<(i64, usize, f64)>,
    units: usize,
}

impl PeriodIndex {
    /// Adds every figure of a unit, one series (metric and shape) at a time.
    fn add_unit(&mut self, unit: &UnitFigures, device: u32, index: usize) {
        let mut series: BTreeMap<(u32, u32), Vec<(i64, f64)>> = BTreeMap::new();
        for p in &unit.points {
            let at = unit.runs[p.run].started_s;
            series
                .entry((p.metric, p.shape))
                .or_default()
                .push((at, p.median.ln()));
        }
        for ((metric, shape), points) in series {
            self.add_series((device, metric, shape), index, points);
        }
    }

    /// Adds figures (start time, log figure) of one unit at `key`; the figures of one unit come
    /// together, so a unit is counted once per key.
    fn add_series(&mut self, key: FigureKey, unit: usize, figures: Vec<(i64, f64)>) {
        let at = self.points.entry(key).or_default();
        if at.points.last().is_none_or(|p| p.1 != unit) {
            at.units += 1;
        }
        at.points
            .extend(figures.into_iter().map(|(t, y)| (t, unit, y)));
    }

    /// Adds one row's figure at `key`.
    #[cfg(test)]
    fn add(&mut self, key: FigureKey, row: &FigureRow, unit: usize) {
        self.add_series(key, unit, vec![(row.started_s, row.median.ln())]);
    }

    /// [`PeriodPoints::reference`] at `key`.
    #[cfg(test)]
    fn reference(&self, key: &FigureKey, started_s: i64, unit: usize) -> Option<f64> {
        self.points
            .get(key)?
            .reference(started_s, unit, &mut Vec::new())
    }

    fn sort(&mut self) {
        for at in self.points.values_mut() {
            at.points.sort_by_key(|p| p.0);
        }
    }
}

impl PeriodPoints {
    /// The median log figure of the runs of other units nearest to `started_s`, one run per
    /// other unit on average (at most [`PERIOD_PEERS`]): a period's worth; `None` with fewer
    /// than [`MIN_PERIOD_PEERS`] other units. `peers` is room for the peers' figures, reused
    /// from call to call.
    fn reference(&self, started_s: i64, unit: usize, peers: &mut Vec<f64>) -> Option<f64> {
        let wanted = self.units.saturating_sub(1).min(PERIOD_PEERS);
        if wanted < MIN_PERIOD_PEERS {
            return None;
        }
        let points = &self.points;
        let at = points.partition_point(|p| p.0 < started_s);
        let (mut left, mut right) = (at, at);
        peers.clear();
        while peers.len() < wanted && (left > 0 || right < points.len()) {
            let take_left = right >= points.len()
                || (left > 0 && started_s - points[left - 1].0 <= points[right].0 - started_s);
            let point = if take_left {
                left -= 1;
                points[left]
            } else {
                right += 1;
                points[right - 1]
            };
            if point.1 != unit {
                peers.push(point.2);
            }
        }
        peers.sort_by(f64::total_cmp);
        Some(median_of_sorted(peers))
    }
}

/// One finding per metric of the unit's latest run (own history still to test), with the
/// unit's series at the finding's shape.
fn test_unit(
    unit: &UnitFigures,
    device: u32,
    names: &NameTable,
    settings: &RegressionSettings,
) -> Vec<(Finding, Series)> {
    let Some(latest_run) = unit.points.iter().map(|p| unit.when(p)).max() else {
        return Vec::new();
    };
    let mut best: BTreeMap<&str, &Point> = BTreeMap::new();
    for point in unit.points.iter().filter(|p| unit.when(p) == latest_run) {
        let metric = names.name(point.metric);
        if best.get(metric).is_none_or(|b| point.median > b.median) {
            best.insert(metric, point);
        }
    }
    best.into_values()
        .map(|latest| {
            let series: Vec<&Point> = unit
                .points
                .iter()
                .filter(|p| p.metric == latest.metric && p.shape == latest.shape)
                .collect();
            finding(unit, device, latest, &series, names, settings)
        })
        .collect()
}

/// The finding of one metric: `series` is the unit's figures at the latest's shape, oldest
/// first, ending with the latest.
fn finding(
    unit: &UnitFigures,
    device: u32,
    latest: &Point,
    series: &[&Point],
    names: &NameTable,
    settings: &RegressionSettings,
) -> (Finding, Series) {
    let logs: Vec<f64> = series.iter().map(|p| p.median.ln()).collect();
    let change_points = change_points(&logs, settings)
        .iter()
        .map(|s| {
            let run = &unit.runs[series[s.index].run];
            s.at(unit.text(&run.run_id), unit.text(&run.started_at))
        })
        .collect();
    let run = &unit.runs[latest.run];
    let finding = Finding {
        host: unit.host.clone(),
        gpu_index: unit.gpu_index,
        device: unit.device.clone(),
        driver: unit.text(&run.driver).to_string(),
        run_id: unit.text(&run.run_id).to_string(),
        started_at: unit.text(&run.started_at).to_string(),
        metric: names.name(latest.metric).to_string(),
        shape: names.name(latest.shape).to_string(),
        unit: names.name(latest.rate).to_string(),
        latest: latest.median,
        own: None,
        population: None,
        change_points,
        verdict: Verdict::Untested,
    };
    let series = Series {
        unit: 0,
        key: (device, latest.metric, latest.shape),
        started_s: series.iter().map(|p| unit.runs[p.run].started_s).collect(),
        logs,
        within: within_run_spread(latest.low, latest.high),
    };
    (finding, series)
}

/// [`own_history`] of each finding: the one test that needs the whole period index, so the
/// one part of the report left after the last unit is read; it runs on two threads, each
/// finding on its own.
fn test_own_histories(
    pending: &mut [(Finding, Series)],
    periods: &PeriodIndex,
    settings: &RegressionSettings,
) {
    let mut peers = Vec::with_capacity(PERIOD_PEERS);
    for (finding, series) in pending {
        finding.own = own_history(series, periods, settings, &mut peers);
    }
}

/// The series as tested: each log figure less its period's reference when every run has one,
/// else the raw log figures; and which it is.
fn tested_logs(series: &Series, periods: &PeriodIndex, peers: &mut Vec<f64>) -> (Vec<f64>, bool) {
    let relative: Option<Vec<f64>> = periods.points.get(&series.key).and_then(|at| {
        series
            .started_s
            .iter()
            .zip(&series.logs)
            .map(|(t, y)| Some(y - at.reference(*t, series.unit, peers)?))
            .collect()
    });
    match relative {
        Some(logs) => (logs, true),
        None => (series.logs.clone(), false),
    }
}

/// The prediction test of the last log figure against the earlier ones since their last step,
/// on the figures relative to their periods where the population allows.
fn own_history(
    series: &Series,
    periods: &PeriodIndex,
    settings: &RegressionSettings,
    peers: &mut Vec<f64>,
) -> Option<OwnHistoryTest> {
    if series.logs.len() <= settings.min_history {
        return None;
    }
    let (logs, against_period) = tested_logs(series, periods, peers);
    let (y, earlier) = logs.split_last()?;
    let start = change_points(earlier, settings)
        .last()
        .map_or(0, |s| s.index)
        .min(earlier.len());
    let from = if earlier.len() - start >= settings.min_history {
        start
    } else {
        0
    };
    let baseline = &earlier[from..];
    let n = baseline.len() as f64;
    let m = mean(baseline);
    let spread = std_dev(baseline);
    let within = series.within;
    let se = (spread.max(SPREAD_FLOOR).powi(2) * (1.0 + 1.0 / n) + within * within).sqrt();
    let t = (y - m) / se;
    let ratio = (y - m).exp();
    let p = if ratio < 1.0 {
        student_t_sf(-t, n - 1.0)
    } else {
        student_t_sf(t, n - 1.0)
    };
    let significant = p < settings.alpha;
    let raw_baseline = mean(&series.logs[from..series.logs.len() - 1]);
    Some(OwnHistoryTest {
        runs: baseline.len(),
        baseline: raw_baseline.exp(),
        raw_ratio: (series.logs[series.logs.len() - 1] - raw_baseline).exp(),
        against_period,
        ratio,
        between_run_spread: spread,
        t,
        p,
        regressed: significant && ratio <= 1.0 - settings.min_change,
        faster: significant && ratio >= 1.0 + settings.min_change,
    })
}

/// The latest figure's own uncertainty as a log standard error, from its 95% interval.
fn within_run_spread(low: f64, high: f64) -> f64 {
    if low > 0.0 && high >= low {
        (high / low).ln() / (2.0 * 1.96)
    } else {
        0.0
    }
}

/// Tests each finding against the latest figures of its model at the same metric and shape
/// (its series' key).
fn apply_population(pending: &mut [(Finding, Series)], settings: &RegressionSettings) {
    let mut groups: HashMap<FigureKey, Vec<f64>> = HashMap::new();
    for (f, series) in pending.iter() {
        groups.entry(series.key).or_default().push(f.latest.ln());
    }
    let stats: HashMap<_, _> = groups
        .into_iter()
        .filter(|(_, logs)| logs.len() >= settings.min_population)
        .map(|(key, mut logs)| {
            logs.sort_by(f64::total_cmp);
            let median = median_of_sorted(&logs);
            let mut deviations: Vec<f64> = logs.iter().map(|v| (v - median).abs()).collect();
            deviations.sort_by(f64::total_cmp);
            (
                key,
                (logs.len(), median, 1.4826 * median_of_sorted(&deviations)),
            )
        })
        .collect();
    for (f, series) in pending.iter_mut() {
        let Some(&(units, median, scale)) = stats.get(&series.key) else {
            continue;
        };
        let diff = f.latest.ln() - median;
        let robust_z = diff / scale.max(SPREAD_FLOOR);
        let ratio = diff.exp();
        f.population = Some(PopulationTest {
            units,
            median: median.exp(),
            ratio,
            robust_z,
            regressed: ratio <= 1.0 - settings.min_change && robust_z < -settings.population_z,
        });
    }
}

fn verdict(f: &Finding) -> Verdict {
    let own_regressed = f.own.as_ref().is_some_and(|o| o.regressed);
    let population_regressed = f.population.as_ref().is_some_and(|p| p.regressed);
    if own_regressed || population_regressed {
        Verdict::Regressed
    } else if f.own.as_ref().is_some_and(|o| o.faster) {
        Verdict::Faster
    } else if f.own.is_none() && f.population.is_none() {
        Verdict::Untested
    } else {
        Verdict::Steady
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The figure of `unit`'s run in `round`: rounds are 100 s apart, the units 10 s apart
    /// within one; a little noise of the unit's own (±2%).
    fn row(unit: usize, round: usize, figure: f64) -> FigureRow {
        let noise = 1.0 + 0.01 * (((unit * 7 + round * 3) % 5) as f64 - 2.0);
        let median = figure * noise;
        let started_s = 1_800_000_000 + (round * 100 + unit * 10) as i64;
        FigureRow {
            key: (round * 100 + unit) as i64,
            run_id: format!("run-{round}-{unit}"),
            host: format!("node{unit}"),
            gpu_index: 0,
            device: "gpu".to_string(),
            driver: "driver 1".to_string(),
            backend: "vulkan".to_string(),
            started_at: format!("t{started_s}"),
            started_s,
            metric: "matmul-f32".to_string(),
            shape: "matmul/f32/256x256x256".to_string(),
            unit: "GFLOP/s".to_string(),
            kernel: "tiled".to_string(),
            median,
            low: median * 0.99,
            high: median * 1.01,
            samples: 10,
        }
    }

    /// `units` units over rounds whose host speed is `drift` (shared by all), unit `slowed`
    /// (if any) at `factor` in the last round; fed one unit after another as the store does.
    fn fleet(units: usize, drift: &[f64], slowed: Option<(usize, f64)>) -> RegressionReport {
        let mut test = FleetTest::new(RegressionSettings::default());
        for unit in 0..units {
            for (round, speed) in drift.iter().enumerate() {
                let last = round + 1 == drift.len();
                let factor = match slowed {
                    Some((u, f)) if u == unit && last => f,
                    _ => 1.0,
                };
                test.add(row(unit, round, 100.0 * speed * factor));
            }
        }
        test.finish()
    }

    fn named(report: &RegressionReport) -> Vec<String> {
        report
            .findings
            .iter()
            .filter(|f| f.verdict == Verdict::Regressed)
            .map(|f| f.host.clone())
            .collect()
    }

    /// The whole fleet 40% slower in the last round (a loaded host): raw figures fall as far
    /// for every unit, but no unit moved against its period, so none is named.
    #[test]
    fn a_shift_the_whole_population_shares_names_no_unit() {
        let report = fleet(4, &[1.0, 1.0, 1.0, 0.6], None);
        assert_eq!(named(&report), Vec::<String>::new(), "{report:?}");
        for f in &report.findings {
            let own = f.own.as_ref().unwrap();
            assert!(own.against_period, "{own:?}");
            assert!((own.raw_ratio - 0.6).abs() < 0.05, "{own:?}");
            assert!((own.ratio - 1.0).abs() < 0.05, "{own:?}");
        }
    }

    /// The same shift with too few units to form a period: tested raw, so the shared 40% drop
    /// is named in every unit — what the period reference prevents above.
    #[test]
    fn without_peers_the_raw_history_is_tested_and_says_so() {
        let report = fleet(3, &[1.0, 1.0, 1.0, 0.6], None);
        assert_eq!(named(&report).len(), 3, "{report:?}");
        assert!(report
            .findings
            .iter()
            .all(|f| f.own.as_ref().is_some_and(|o| !o.against_period)));
    }

    /// One unit at half speed in the last round while the host drifts between rounds: it is the
    /// only one named, by its history against the period.
    #[test]
    fn a_unit_slowed_on_its_own_is_named_through_a_drifting_host() {
        let report = fleet(4, &[1.0, 1.3, 0.8, 0.7], Some((2, 0.5)));
        assert_eq!(named(&report), vec!["node2".to_string()], "{report:?}");
        let f = &report.findings[0];
        let own = f.own.as_ref().unwrap();
        assert!(own.regressed && own.against_period, "{own:?}");
        assert!((own.ratio - 0.5).abs() < 0.05, "{own:?}");
    }

    /// The key of the figures of [`row`].
    const KEY: FigureKey = (0, 0, 0);

    /// The period reference takes one run per other unit, the nearest in time, never the
    /// unit's own runs.
    #[test]
    fn a_period_reference_is_the_median_of_the_nearest_runs_of_other_units() {
        let mut index = PeriodIndex::default();
        for (unit, round, figure) in [(0, 0, 1.0), (0, 1, 8.0), (1, 0, 2.0), (1, 1, 4.0)] {
            index.add(KEY, &row(unit, round, figure), unit);
        }
        for (unit, round, figure) in [(2, 0, 3.0), (2, 1, 5.0), (3, 0, 9.0), (3, 1, 6.0)] {
            index.add(KEY, &row(unit, round, figure), unit);
        }
        index.sort();
        let key = KEY;
        let at = row(0, 1, 1.0).started_s;
        let reference = index.reference(&key, at, 0).unwrap();
        let round_1 = [4.0, 5.0, 6.0].map(|v| (v * row(0, 1, 1.0).median).ln());
        assert!(
            reference > round_1[0] && reference < round_1[2],
            "{reference}"
        );
        let mut few = PeriodIndex::default();
        for unit in 0..3 {
            few.add(KEY, &row(unit, 0, 1.0), unit);
        }
        few.sort();
        assert_eq!(few.reference(&key, at, 0), None);
    }
}
