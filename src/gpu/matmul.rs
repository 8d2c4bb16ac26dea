//! The wgpu backend's preparation of a case — buffers, pipeline, bindings, submission and
//! read-back. Matmul inputs on storage buffers are prepared here; texture-fed matmuls and
//! ceiling kernels in their own modules; the measure loop in `measure.rs`.

use super::context::GpuContext;
use super::faults::Injector;
use super::timestamps::PassTimer;
use crate::bench::{CaseHandle, CaseSpec};
use crate::error::{Error, Result};
use crate::kernels::{matmul_buffer_bytes, round_to_f16};
use crate::results::Verification;
use crate::workload::{
    matmul_inputs, matmul_reference, relative_frobenius_error, Dtype, Op, Workload,
};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Runs cases on a real adapter through wgpu.
pub struct WgpuBackend {
    pub(crate) ctx: GpuContext,
    pub(crate) timer: Option<PassTimer>,
    pub(crate) faults: Injector,
    /// Cases prepared and not yet finished, by handle.
    pub(crate) prepared: HashMap<CaseHandle, super::measure::Resident>,
    pub(crate) next_handle: u64,
    /// How long a read-back may wait for the GPU (the run's `--gpu-timeout`).
    pub(crate) readback_timeout: Duration,
    /// When the backend was made: the clock budgets are kept on.
    pub(crate) opened: Instant,
}

impl WgpuBackend {
    /// Wraps an opened device.
    pub fn new(ctx: GpuContext) -> Self {
        let timer = ctx
            .record
            .timestamp_period_ns
            .filter(|_| ctx.timestamps)
            .map(|p| PassTimer::new(&ctx.device, p));
        WgpuBackend {
            ctx,
            timer,
            faults: Injector::from_env(),
            prepared: HashMap::new(),
            next_handle: 0,
            readback_timeout: Duration::from_secs(600),
            opened: Instant::now(),
        }
    }

    pub(crate) fn lost(&self) -> Option<String> {
        self.ctx.lost.lock().ok().and_then(|l| l.clone())
    }
}

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

impl WgpuBackend {
    /// Builds buffers and pipeline for any case, with validation and out-of-memory errors
    /// captured as errors of this case.
    pub(crate) fn prepare_case(
        &self,
        spec: &CaseSpec,
        checks: bool,
    ) -> Result<(Prepared, Checker)> {
        let device = &self.ctx.device;
        let scope = device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let validation = device.push_error_scope(wgpu::ErrorFilter::Validation);
        let prepared = match (spec.workload.op, spec.kernel.spec.family) {
            (Op::Matmul, "storage_texture") => self.prepare_texture_matmul(spec, checks),
            (Op::Matmul, _) => self.prepare_matmul(spec, checks),
            _ => self.prepare_ceiling(spec, checks),
        };
        let validation = pollster::block_on(validation.pop());
        let oom = pollster::block_on(scope.pop());
        let prepared = prepared?;
        if let Some(e) = validation {
            return Err(Error::Gpu(format!("validation error: {e}")));
        }
        if let Some(e) = oom {
            return Err(Error::Gpu(format!("out of memory: {e}")));
        }
        self.faults.out_of_memory()?;
        Ok(prepared)
    }

    /// Matmul with both inputs in storage buffers (f32, or f16 rounded on the host).
    fn prepare_matmul(&self, spec: &CaseSpec, checks: bool) -> Result<(Prepared, Checker)> {
        let w = spec.workload;
        let (mut a, mut b) = matmul_inputs(w.m, w.n, w.k, spec.seed);
        let storage = wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST;
        let (a_buf, b_buf) = if w.dtype == Dtype::F16 {
            let (ha, hb) = (round_to_f16(&mut a), round_to_f16(&mut b));
            (
                self.upload("A", bytemuck::cast_slice(&ha), storage),
                self.upload("B", bytemuck::cast_slice(&hb), storage),
            )
        } else {
            (
                self.upload("A", bytemuck::cast_slice(&a), storage),
                self.upload("B", bytemuck::cast_slice(&b), storage),
            )
        };
        let prepared = self.matmul_bindings(spec, checks, &a_buf, &b_buf)?;
        let check: Checker = Box::new(move |bytes: &[u8]| {
            let got: Vec<f32> = bytemuck::pod_collect_to_vec(bytes);
            let want = matmul_reference(&a, &b, w.m as usize, w.n as usize, w.k as usize);
            verify(&got, &want, &w)
        });
        Ok((prepared, check))
    }

    /// The output, dims uniform, pipeline and bind group shared by every matmul family:
    /// bindings 0 and 1 are the inputs, 2 the output C, 3 the dims.
    pub(crate) fn matmul_bindings(
        &self,
        spec: &CaseSpec,
        checks: bool,
        a: &dyn AsBinding,
        b: &dyn AsBinding,
    ) -> Result<Prepared> {
        let w = spec.workload;
        let [_, _, c_bytes] = matmul_buffer_bytes(&w);
        let dims: [u32; 4] = [w.m as u32, w.n as u32, w.k as u32, 0];
        let uniform = wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST;
        let dims_buf = self.upload("dims", bytemuck::cast_slice(&dims), uniform);
        let (c, readback) = self.output_buffers("C", c_bytes);
        let pipeline = self.pipeline(spec, checks);
        let bind_group = self
            .ctx
            .device
            .create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some("matmul"),
                layout: &pipeline.get_bind_group_layout(0),
                entries: &[a.entry(0), b.entry(1), entry(2, &c), entry(3, &dims_buf)],
            });
        Ok(Prepared {
            pipeline,
            bind_group,
            output: c,
            readback,
            out_bytes: c_bytes,
            dispatch: spec.kernel.dispatch(&w),
        })
    }

    /// An output buffer poisoned with 0xFF bytes (NaN as f32, so an output the kernel never
    /// wrote fails the check) and its read-back twin.
    pub(crate) fn output_buffers(&self, label: &str, bytes: u64) -> (wgpu::Buffer, wgpu::Buffer) {
        let usage = wgpu::BufferUsages::STORAGE
            | wgpu::BufferUsages::COPY_DST
            | wgpu::BufferUsages::COPY_SRC;
        let out = self.buffer(label, bytes, usage);
        self.ctx
            .queue
            .write_buffer(&out, 0, &vec![0xFFu8; bytes as usize]);
        let readback = self.buffer(
            "readback",
            bytes,
            wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        );
        (out, readback)
    }

    pub(crate) fn buffer(&self, label: &str, size: u64, usage: wgpu::BufferUsages) -> wgpu::Buffer {
        self.ctx.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size,
            usage,
            mapped_at_creation: false,
        })
    }

    pub(crate) fn upload(
        &self,
        label: &str,
        bytes: &[u8],
        usage: wgpu::BufferUsages,
    ) -> wgpu::Buffer {
        let buf = self.buffer(label, bytes.len() as u64, usage);
        self.ctx.queue.write_buffer(&buf, 0, bytes);
        buf
    }

    pub(crate) fn pipeline(&self, spec: &CaseSpec, checks: bool) -> wgpu::ComputePipeline {
        let device = &self.ctx.device;
        let desc = wgpu::ShaderModuleDescriptor {
            label: Some(spec.kernel.spec.id),
            source: wgpu::ShaderSource::Wgsl(spec.kernel.source().into()),
        };
        let module = if checks {
            device.create_shader_module(desc)
        } else {
            // SAFETY: every kernel guards its indices against the dims uniform, and the host
            // checks shapes before dispatch; the bounds checks only duplicate those guards.
            unsafe {
                device.create_shader_module_trusted(desc, wgpu::ShaderRuntimeChecks::unchecked())
            }
        };
        let constants: Vec<(&str, f64)> = spec
            .kernel
            .overrides
            .iter()
            .map(|(k, v)| (k.as_str(), *v))
            .collect();
        device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some(spec.kernel.spec.id),
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

    /// Submits `count` dispatches in one pass and waits; returns host seconds for the whole
    /// submission. With `timed`, the pass carries timestamps and they are resolved.
    pub(crate) fn submit_batch(
        &self,
        p: &Prepared,
        count: u32,
        timed: bool,
        timeout: Duration,
    ) -> Result<f64> {
        let mut encoder = self.ctx.device.create_command_encoder(&Default::default());
        let timer = self.timer.as_ref().filter(|_| timed);
        {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("matmul"),
                timestamp_writes: timer.map(PassTimer::writes),
            });
            pass.set_pipeline(&p.pipeline);
            pass.set_bind_group(0, &p.bind_group, &[]);
            let limit = self.ctx.record.limits.max_compute_workgroups_per_dimension;
            let [x, y, z] = self.faults.dispatch(p.dispatch, limit);
            for _ in 0..count {
                pass.dispatch_workgroups(x, y, z);
            }
        }
        if let Some(t) = timer {
            t.resolve(&mut encoder);
        }
        let start = Instant::now();
        let index = self.ctx.queue.submit([encoder.finish()]);
        self.wait(Some(index), timeout)?;
        Ok(start.elapsed().as_secs_f64())
    }

    fn wait(&self, index: Option<wgpu::SubmissionIndex>, timeout: Duration) -> Result<()> {
        let poll = wgpu::PollType::Wait {
            submission_index: index,
            timeout: Some(timeout),
        };
        // A lost device or a validation error explains a failed wait better than the wait does.
        let polled = self.ctx.device.poll(poll);
        if let Some(lost) = self.lost() {
            return Err(Error::Gpu(lost));
        }
        let first_error = self.ctx.uncaptured.lock().ok().and_then(|mut v| {
            let first = v.first().cloned();
            v.clear();
            first
        });
        if let Some(err) = first_error {
            return Err(Error::Gpu(err));
        }
        polled.map_err(|e| Error::Gpu(format!("waiting for the GPU: {e}")))?;
        self.faults.timeout(timeout)
    }

    pub(crate) fn read_output(&self, p: &Prepared) -> Result<Vec<u8>> {
        let mut encoder = self.ctx.device.create_command_encoder(&Default::default());
        encoder.copy_buffer_to_buffer(&p.output, 0, &p.readback, 0, p.out_bytes);
        self.ctx.queue.submit([encoder.finish()]);
        read_buffer(
            &self.ctx.device,
            &p.readback,
            p.out_bytes,
            self.readback_timeout,
        )
    }
}

pub(crate) fn entry(binding: u32, buffer: &wgpu::Buffer) -> wgpu::BindGroupEntry<'_> {
    wgpu::BindGroupEntry {
        binding,
        resource: buffer.as_entire_binding(),
    }
}

/// A buffer or texture view that can fill a bind-group slot.
pub(crate) trait AsBinding {
    /// The bind-group entry at `binding`.
    fn entry(&self, binding: u32) -> wgpu::BindGroupEntry<'_>;
}

impl AsBinding for wgpu::Buffer {
    fn entry(&self, binding: u32) -> wgpu::BindGroupEntry<'_> {
        entry(binding, self)
    }
}

impl AsBinding for wgpu::TextureView {
    fn entry(&self, binding: u32) -> wgpu::BindGroupEntry<'_> {
        wgpu::BindGroupEntry {
            binding,
            resource: wgpu::BindingResource::TextureView(self),
        }
    }
}

pub(crate) fn verify(got: &[f32], want: &[f64], w: &Workload) -> Verification {
    Verification {
        rel_error: relative_frobenius_error(got, want),
        tolerance: w.dtype.tolerance(),
        reference: "cpu_f64".to_string(),
        checked_elements: want.len() as u64,
        total_elements: w.m * w.n,
    }
}

/// Maps a MAP_READ buffer, copies `size` bytes out and unmaps it, waiting at most `timeout` for
/// the GPU: a hung read-back fails its case like a hung dispatch does.
pub(crate) fn read_buffer(
    device: &wgpu::Device,
    buffer: &wgpu::Buffer,
    size: u64,
    timeout: Duration,
) -> Result<Vec<u8>> {
    let (tx, rx) = std::sync::mpsc::channel();
    buffer.map_async(wgpu::MapMode::Read, 0..size, move |r| {
        let _ = tx.send(r);
    });
    let poll = wgpu::PollType::Wait {
        submission_index: None,
        timeout: Some(timeout),
    };
    device.poll(poll).map_err(|e| {
        Error::Gpu(format!(
            "waiting for read-back ({:.1} s limit): {e}",
            timeout.as_secs_f64()
        ))
    })?;
    rx.recv_timeout(timeout)
        .map_err(|_| Error::Gpu("read-back callback never ran".to_string()))?
        .map_err(|e| Error::Gpu(format!("mapping a buffer failed: {e}")))?;
    let bytes = {
        let view = buffer
            .get_mapped_range(0..size)
            .map_err(|e| Error::Gpu(format!("reading a mapped buffer: {e}")))?;
        view.to_vec()
    };
    buffer.unmap();
    Ok(bytes)
}
