//! GPU timestamps at compute-pass boundaries: a two-entry query set, resolved and read back in a
//! separate submission (on Vulkan, resolving and copying in one encoder can read zeros).

use crate::error::{Error, Result};

/// Seconds between two raw timestamps. `wrapping_sub` because counters may wrap; a period of 0
/// means the queue has no timestamps, and a zero interval means the driver did not write them —
/// both are errors, never a zero duration.
pub fn ticks_to_seconds(begin: u64, end: u64, period_ns: f32) -> Option<f64> {
    let ticks = end.wrapping_sub(begin);
    if period_ns <= 0.0 || ticks == 0 || ticks > u64::MAX / 2 {
        return None;
    }
    Some(ticks as f64 * f64::from(period_ns) / 1e9)
}

/// A query set of two timestamps and the buffers to read them back.
pub(crate) struct PassTimer {
    pub(crate) query_set: wgpu::QuerySet,
    resolve: wgpu::Buffer,
    readback: wgpu::Buffer,
    period_ns: f32,
}

impl PassTimer {
    pub(crate) fn new(device: &wgpu::Device, period_ns: f32) -> Self {
        let query_set = device.create_query_set(&wgpu::QuerySetDescriptor {
            label: Some("pass timestamps"),
            ty: wgpu::QueryType::Timestamp,
            count: 2,
        });
        let resolve = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("timestamp resolve"),
            size: 16,
            usage: wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC,
            mapped_at_creation: false,
        });
        let readback = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("timestamp readback"),
            size: 16,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        PassTimer {
            query_set,
            resolve,
            readback,
            period_ns,
        }
    }

    /// Timestamp writes for a pass: index 0 at its start, 1 at its end.
    pub(crate) fn writes(&self) -> wgpu::ComputePassTimestampWrites<'_> {
        wgpu::ComputePassTimestampWrites {
            query_set: &self.query_set,
            beginning_of_pass_write_index: Some(0),
            end_of_pass_write_index: Some(1),
        }
    }

    /// Appends the resolve to an encoder that contains the timed pass.
    pub(crate) fn resolve(&self, encoder: &mut wgpu::CommandEncoder) {
        encoder.resolve_query_set(&self.query_set, 0..2, &self.resolve, 0);
    }

    /// Copies the resolved values in a submission of their own and reads them as seconds.
    pub(crate) fn read(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        timeout: std::time::Duration,
    ) -> Result<f64> {
        let mut encoder = device.create_command_encoder(&Default::default());
        encoder.copy_buffer_to_buffer(&self.resolve, 0, &self.readback, 0, 16);
        queue.submit([encoder.finish()]);
        let bytes = super::buffers::read_buffer(device, &self.readback, 16, timeout)?;
        let ticks: [u64; 2] = bytemuck::pod_read_unaligned(&bytes[..16]);
        ticks_to_seconds(ticks[0], ticks[1], self.period_ns).ok_or_else(|| {
            Error::Gpu(format!(
                "timestamps unusable: begin {} end {} period {} ns",
                ticks[0], ticks[1], self.period_ns
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_ticks_with_the_period() {
        assert_eq!(ticks_to_seconds(100, 1_100, 1.0), Some(1e-6));
        assert_eq!(ticks_to_seconds(0, 1_000_000, 2.5), Some(2.5e-3));
    }

    #[test]
    fn wraps_and_rejects_unusable_values() {
        assert_eq!(ticks_to_seconds(u64::MAX, 9, 1.0), Some(10e-9));
        assert_eq!(ticks_to_seconds(5, 5, 1.0), None);
        assert_eq!(ticks_to_seconds(0, 10, 0.0), None);
        assert_eq!(ticks_to_seconds(10, 5, 1.0), None); // end before begin
    }
}
