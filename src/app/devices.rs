//! `fleetbench devices`: list the adapters wgpu reaches.

use crate::cli::DevicesArgs;
use fleetbench::devices::DeviceList;
use fleetbench::{gpu, output};
use std::process::ExitCode;

pub fn execute(args: DevicesArgs) -> anyhow::Result<ExitCode> {
    let adapters = gpu::list_adapters(args.backend.as_deref())?;
    if adapters.is_empty() {
        anyhow::bail!("{}", gpu::no_adapter_message());
    }
    let list = DeviceList { adapters };
    output::emit(&output::render(
        &list,
        args.format,
        output::terminal_width(),
    )?)?;
    Ok(ExitCode::SUCCESS)
}
