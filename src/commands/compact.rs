//! `causet compact`: closed hours merged, old ones retired.

use std::io::Write as _;
use std::process::ExitCode;

use causet_analyzer::Location;

use crate::cli::{CompactArgs, epoch_ns, nanos};

pub(crate) async fn compact(data: Location, args: CompactArgs) -> anyhow::Result<ExitCode> {
    use causet_analyzer::compact;
    let now = epoch_ns(std::time::SystemTime::now());
    let size = |bytes: u64| {
        causet_analyzer::fmt::human_bytes(usize::try_from(bytes).unwrap_or(usize::MAX))
    };
    let mut out = std::io::stdout().lock();
    if let Some(keep) = args.retain {
        let gone = match &data {
            Location::Folder(dir) => compact::retain(dir, now, nanos(keep))?,
            Location::Remote(remote) => compact::remote::retain(remote, now, nanos(keep)).await?,
        };
        writeln!(
            out,
            "retention {}: deleted {} table-hours, {} files, {}",
            humantime::format_duration(keep),
            gone.hours,
            gone.files,
            size(gone.bytes)
        )?;
    }
    let (older_than, settings) = (nanos(args.older_than), args.memory.settings());
    let done = match &data {
        Location::Folder(dir) => compact::compact(dir, now, older_than, &settings).await?,
        Location::Remote(remote) => {
            compact::remote::compact(remote, now, older_than, &settings).await?
        }
    };
    writeln!(
        out,
        "compacted {} table-hours: {} files -> {}, {} rows, {} -> {}{}",
        done.hours,
        done.files_before,
        done.hours,
        done.rows,
        size(done.bytes_before),
        size(done.bytes_after),
        if done.recovered > 0 {
            format!("; finished {} merges an earlier run left", done.recovered)
        } else {
            String::new()
        }
    )?;
    if done.open_hours > 0 {
        writeln!(
            out,
            "left {} table-hours that are newer than {} or still in the write-ahead log",
            done.open_hours,
            humantime::format_duration(args.older_than)
        )?;
    }
    Ok(ExitCode::SUCCESS)
}
