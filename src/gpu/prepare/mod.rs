//! GPU-side preparation of every kernel family: inputs generated and laid out, buffers or
//! textures uploaded, the pipeline compiled with its constants, bindings made, and the check
//! that the output will be held to. Which preparation a kernel gets is an exhaustive match on
//! [`Kernel`], so a new kernel cannot be run without one.

mod ceiling;
mod int8;
mod matmul;
mod texture;

pub use ceiling::peak_expected;
pub use texture::transpose;

use super::buffers::{self, entry, AsBinding};
use super::context::GpuContext;
use crate::error::Result;
use crate::kernels::{matmul_buffer_bytes, Kernel};
use crate::measure::backend::CaseSpec;
use crate::measure::verify::{FloatReference, MatmulShape};
use crate::results::Verification;
use crate::workload::Workload;

/// Pipeline and bindings of one prepared case, and the output buffer its check reads.
pub(crate) struct Prepared {
    pub(crate) pipeline: wgpu::ComputePipeline,
    pub(crate) bind_group: wgpu::BindGroup,
    pub(crate) output: wgpu::Buffer,
    pub(crate) readback: wgpu::Buffer,
    pub(crate) out_bytes: u64,
    pub(crate) dispatch: [u32; 3],
}

/// Checks the bytes of a prepared case's output against its reference.
pub(crate) type Checker = Box<dyn FnOnce(&[u8]) -> Verification>;

/// Buffers, pipeline and check of any case (errors are not scoped here; the caller scopes).
pub(crate) fn prepare(
    ctx: &GpuContext,
    spec: &CaseSpec,
    checks: bool,
) -> Result<(Prepared, Checker)> {
    match spec.kernel.kernel {
        Kernel::MatmulTex => texture::prepare(ctx, spec, checks),
        Kernel::MatmulInt8 => int8::prepare(ctx, spec, checks),
        Kernel::MatmulNaive
        | Kernel::MatmulBlocked
        | Kernel::MatmulTiled
        | Kernel::MatmulF16
        | Kernel::MatmulTiledF16
        | Kernel::MatmulCoopF16 => matmul::prepare(ctx, spec, checks),
        Kernel::PeakFmaF32 | Kernel::PeakFmaF16 | Kernel::Copy | Kernel::Triad => {
            ceiling::prepare(ctx, spec, checks)
        }
    }
}

/// The output, dims uniform, pipeline and bind group shared by every matmul family:
/// bindings 0 and 1 are the inputs, 2 the output C, 3 the dims.
fn matmul_bindings(
    ctx: &GpuContext,
    spec: &CaseSpec,
    checks: bool,
    a: &dyn AsBinding,
    b: &dyn AsBinding,
) -> Prepared {
    let w = spec.workload;
    let [_, _, c_bytes] = matmul_buffer_bytes(&w);
    let dims: [u32; 4] = [w.m as u32, w.n as u32, w.k as u32, 0];
    let dims_buf = buffers::uniform(ctx, "dims", bytemuck::cast_slice(&dims));
    let (c, readback) = buffers::output_buffers(ctx, "C", c_bytes);
    let pipeline = pipeline(ctx, spec, checks);
    let bind_group = ctx.device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: Some("matmul"),
        layout: &pipeline.get_bind_group_layout(0),
        entries: &[a.entry(0), b.entry(1), entry(2, &c), entry(3, &dims_buf)],
    });
    Prepared {
        pipeline,
        bind_group,
        output: c,
        readback,
        out_bytes: c_bytes,
        dispatch: spec.kernel.dispatch(&w),
    }
}

/// The compute pipeline of a case's configuration: its (generated) source, its pipeline
/// constants, and naga's bounds checks on or off.
fn pipeline(ctx: &GpuContext, spec: &CaseSpec, checks: bool) -> wgpu::ComputePipeline {
    let device = &ctx.device;
    let id = spec.kernel.id();
    let desc = wgpu::ShaderModuleDescriptor {
        label: Some(id),
        source: wgpu::ShaderSource::Wgsl(spec.kernel.source().into()),
    };
    let module = if checks {
        device.create_shader_module(desc)
    } else {
        // SAFETY: every kernel guards its indices against the dims uniform, and the host
        // checks shapes before dispatch; the bounds checks only duplicate those guards.
        unsafe { device.create_shader_module_trusted(desc, wgpu::ShaderRuntimeChecks::unchecked()) }
    };
    let constants = spec.kernel.pipeline_constants();
    device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
        label: Some(id),
        layout: None,
        module: &module,
        entry_point: Some("main"),
        compilation_options: wgpu::PipelineCompilationOptions {
            constants: &constants,
            zero_initialize_workgroup_memory: false,
        },
        cache: None,
    })
}

/// The check of a float matmul with inputs `a` and `b` (as the kernel sees them, f16-rounded
/// where it reads f16): the reference is built here, before the dispatch; the full product for
/// small shapes, the O(n²) check above [`crate::measure::verify::FULL_CHECK_MAX_MACS`].
fn float_checker(a: &[f32], b: &[f32], w: &Workload, seed: u64) -> Result<Checker> {
    let reference = FloatReference::new(a, b, shape_of(w), w.dtype.tolerance(), seed)?;
    Ok(Box::new(move |bytes: &[u8]| {
        let got: Vec<f32> = bytemuck::pod_collect_to_vec(bytes);
        reference.check(&got)
    }))
}

/// The verification shape of a matmul workload.
fn shape_of(w: &Workload) -> MatmulShape {
    MatmulShape {
        m: w.m as usize,
        n: w.n as usize,
        k: w.k as usize,
    }
}
