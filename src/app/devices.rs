//! `fleetbench devices`.

use crate::cli::DevicesArgs;
use fleetbench::output::Format;
use fleetbench::{gpu, render};
use std::process::ExitCode;

pub fn execute(args: DevicesArgs) -> anyhow::Result<ExitCode> {
    let adapters = gpu::list_adapters(args.backend.as_deref())?;
    if adapters.is_empty() {
        anyhow::bail!("{}", gpu::no_adapter_message());
    }
    let out = match args.format {
        Format::Json => serde_json::to_string_pretty(&adapters)? + "\n",
        format => render::devices(&adapters).render(format, fleetbench::output::terminal_width()),
    };
    print!("{out}");
    Ok(ExitCode::SUCCESS)
}
