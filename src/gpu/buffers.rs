//! Buffers on an opened device: plain, uploaded, poisoned outputs with their read-back twins,
//! bind-group entries, and the blocking read of a mapped buffer. Used by the preparation of
//! every kernel family, by the measure loop and by the timestamp reader.

use super::context::GpuContext;
use crate::error::{Error, Result};
use std::time::Duration;

/// An uninitialised buffer.
pub(crate) fn buffer(
    ctx: &GpuContext,
    label: &str,
    size: u64,
    usage: wgpu::BufferUsages,
) -> wgpu::Buffer {
    ctx.device.create_buffer(&wgpu::BufferDescriptor {
        label: Some(label),
        size,
        usage,
        mapped_at_creation: false,
    })
}

/// A buffer holding `bytes`.
pub(crate) fn upload(
    ctx: &GpuContext,
    label: &str,
    bytes: &[u8],
    usage: wgpu::BufferUsages,
) -> wgpu::Buffer {
    let buf = buffer(ctx, label, bytes.len() as u64, usage);
    ctx.queue.write_buffer(&buf, 0, bytes);
    buf
}

/// A read-only storage buffer holding `bytes`.
pub(crate) fn storage(ctx: &GpuContext, label: &str, bytes: &[u8]) -> wgpu::Buffer {
    let usage = wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST;
    upload(ctx, label, bytes, usage)
}

/// A uniform buffer holding `bytes`.
pub(crate) fn uniform(ctx: &GpuContext, label: &str, bytes: &[u8]) -> wgpu::Buffer {
    let usage = wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST;
    upload(ctx, label, bytes, usage)
}

/// An output buffer poisoned with 0xFF bytes (NaN as f32, -1 as i32, so an output the kernel
/// never wrote fails the check) and its read-back twin.
pub(crate) fn output_buffers(
    ctx: &GpuContext,
    label: &str,
    bytes: u64,
) -> (wgpu::Buffer, wgpu::Buffer) {
    let usage =
        wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST | wgpu::BufferUsages::COPY_SRC;
    let out = buffer(ctx, label, bytes, usage);
    ctx.queue
        .write_buffer(&out, 0, &vec![0xFFu8; bytes as usize]);
    let readback = buffer(
        ctx,
        "readback",
        bytes,
        wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
    );
    (out, readback)
}

/// The bind-group entry of a whole buffer.
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
