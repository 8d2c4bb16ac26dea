//! Criterion benches of fleetbench's kernels on the first adapter, timed by the GPU's own
//! clock through `iter_custom` (criterion's wall clock would include submission overhead).
//! `cargo bench --bench kernels`. Skips with a message when no adapter is present.

use criterion::{criterion_group, criterion_main, Criterion, SamplingMode, Throughput};
use fleetbench::gpu::{open_device, AdapterSelector, WgpuBackend};
use fleetbench::kernels::{ceiling_cases, Kernel, KernelConfig};
use fleetbench::measure::backend::CaseSpec;
use fleetbench::results::AdapterRecord;
use fleetbench::results::RateUnit;
use fleetbench::workload::{Dtype, Workload};
use std::time::Duration;

fn cases(adapter: &AdapterRecord) -> Vec<CaseSpec> {
    let n = 512;
    let w = Workload::matmul(Dtype::F32, n, n, n);
    let mut specs: Vec<CaseSpec> = ceiling_cases(adapter)
        .into_iter()
        .map(|(workload, kernel)| CaseSpec {
            workload,
            kernel,
            seed: 1,
        })
        .collect();
    for kernel in [
        KernelConfig::new(
            Kernel::MatmulBlocked,
            &[("WG_X", 8), ("WG_Y", 8), ("ROWS", 8)],
        ),
        KernelConfig::new(
            Kernel::MatmulTex,
            &[("WG_X", 8), ("WG_Y", 8), ("RA", 4), ("CB", 4)],
        ),
        KernelConfig::new(
            Kernel::MatmulTiled,
            &[("BM", 64), ("BN", 64), ("BK", 16), ("TM", 8), ("TN", 8)],
        ),
    ] {
        specs.push(CaseSpec {
            workload: w,
            kernel,
            seed: 1,
        });
    }
    specs
}

fn bench_kernels(c: &mut Criterion) {
    let ctx = match open_device(&AdapterSelector::Best, None) {
        Ok(ctx) => ctx,
        Err(e) => {
            eprintln!("skipping the kernel benches: {e}");
            return;
        }
    };
    let adapter = ctx.record.clone();
    let backend = WgpuBackend::new(ctx);
    let mut group = c.benchmark_group("kernels");
    group.sample_size(10).sampling_mode(SamplingMode::Flat);
    for spec in cases(&adapter) {
        let prepared = match backend.prepare_verified(&spec, true) {
            Ok(p) => p,
            Err(e) => {
                eprintln!("skipping {}: {e}", spec.id());
                continue;
            }
        };
        let (unit, work) = RateUnit::of(&spec.workload);
        group.throughput(match unit {
            RateUnit::Gflops => Throughput::Elements((work * 1e9) as u64),
            RateUnit::Gbps => Throughput::Bytes((work * 1e9) as u64),
        });
        group.bench_function(spec.id(), |b| {
            b.iter_custom(|iters| {
                let count = u32::try_from(iters).unwrap_or(u32::MAX);
                match backend.time_dispatches(&prepared, count) {
                    Ok(d) => d,
                    Err(e) => {
                        eprintln!("{}: {e}", spec.id());
                        Duration::MAX / 4
                    }
                }
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_kernels);
criterion_main!(benches);
