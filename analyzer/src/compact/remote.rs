//! Compaction and retention of a data folder in an object store: the
//! folder's merges (see the parent module), with the store's primitives.
//!
//! **A merge.** The table-hour's objects are read by DataFusion, sorted as
//! in a folder, and written to a local temporary file; its row count is
//! checked against the inputs'. Then the journal object
//! (`compaction.journal` under the hour's prefix) is written, the merged
//! file is uploaded (one PUT, or a multipart upload the store completes
//! atomically), the inputs are deleted, and the journal last. A kill at any
//! moment leaves the inputs alone, the inputs and the merged object (SQL and
//! the analysis drop the copies; the next run deletes the inputs), or the
//! merged object alone; the next run reads the journal and finishes or
//! undoes what it names.
//!
//! **One at a time.** A run takes the prefix's lock object
//! (`.compact.lock`, created only if absent: a conditional PUT) and deletes
//! it when done. A lock older than [`LOCK_STALE_NS`] is taken to be a
//! killed run's and replaced.
//!
//! **What is left alone.** Hours that end less than `older_than` ago, as in
//! a folder. There is no WAL to consult here: a collector that re-uploads a
//! segment after a crash, after its hour was merged, adds copies that
//! queries drop and the next merge keeps, as copies in a folder are kept.

use causet_schema::location::Remote;
use causet_schema::tables::{self, INGESTED_TABLES};
use datafusion::datasource::listing::ListingTableUrl;
use datafusion::prelude::{SessionConfig, SessionContext};
use futures::TryStreamExt as _;
use object_store::path::Path as Key;
use object_store::{ObjectStore, ObjectStoreExt as _, PutMode, PutOptions};

use super::{Compacted, JOURNAL, Journal, LOCK_FILE, Retained, ended_by, hour_of_names};
use crate::Location;
use crate::error::{Error, Result};
use crate::settings::Settings;

/// A lock object older than this (1 hour) is a killed run's.
pub const LOCK_STALE_NS: i64 = 3_600_000_000_000;

/// One table's prefix of one hour.
#[derive(Debug)]
struct Hour {
    table: &'static str,
    hour: i64,
    prefix: Key,
}

/// Merges the objects of every table-hour under `remote` that ended at
/// least `older_than_ns` before `now_ns`, finishing first any merge a kill
/// interrupted. Sorting runs under `settings`' memory limit and spills.
pub async fn compact(
    remote: &Remote,
    now_ns: i64,
    older_than_ns: i64,
    settings: &Settings,
) -> Result<Compacted> {
    let runtime = settings.runtime_for(&Location::Remote(remote.clone()))?;
    let ctx = SessionContext::new_with_config_rt(SessionConfig::new(), runtime);
    locked(remote, now_ns, async {
        let mut done = Compacted::default();
        for hour in hours(remote).await? {
            if finish_interrupted(remote, &ctx, &hour.prefix).await? {
                done.recovered += 1;
            }
            if !ended_by(hour.hour, now_ns.saturating_sub(older_than_ns)) {
                done.open_hours += 1;
                continue;
            }
            let files = parquet_objects(remote, &hour.prefix).await?;
            if files.len() < 2 {
                continue;
            }
            let merged = merge(remote, &ctx, &hour, &files, now_ns)
                .await
                .map_err(|e| Error::with_limit(e, settings.memory_limit))?;
            done.hours += 1;
            done.files_before += files.len();
            done.rows += merged.0;
            done.bytes_before += files.iter().map(|(_, size)| size).sum::<u64>();
            done.bytes_after += merged.1;
        }
        Ok(done)
    })
    .await
}

/// Deletes every table-hour under `remote` that ended at least `keep_ns`
/// before `now_ns`: links and events first, spans last.
pub async fn retain(remote: &Remote, now_ns: i64, keep_ns: i64) -> Result<Retained> {
    locked(remote, now_ns, async {
        let mut done = Retained::default();
        let mut expired: Vec<Hour> = hours(remote)
            .await?
            .into_iter()
            .filter(|h| ended_by(h.hour, now_ns.saturating_sub(keep_ns)))
            .collect();
        expired.sort_by_key(|h| (h.hour, h.table == tables::SPANS));
        for hour in expired {
            let objects: Vec<_> = remote
                .store()
                .list(Some(&hour.prefix))
                .try_collect()
                .await
                .map_err(|e| failed(remote, e))?;
            for object in objects {
                delete(remote, &object.location).await?;
                done.files += 1;
                done.bytes += object.size;
            }
            done.hours += 1;
        }
        Ok(done)
    })
    .await
}

/// Runs `work` holding the prefix's compaction lock, released after it
/// whether it failed or not.
async fn locked<T>(
    remote: &Remote,
    now_ns: i64,
    work: impl std::future::Future<Output = Result<T>>,
) -> Result<T> {
    let lock = Lock::take(remote, now_ns).await?;
    let done = work.await;
    lock.release().await?;
    done
}

fn failed(remote: &Remote, source: object_store::Error) -> Error {
    Error::Store {
        url: remote.to_string(),
        source,
    }
}

/// Deletes `key`; one already gone is fine.
async fn delete(remote: &Remote, key: &Key) -> Result<()> {
    match remote.store().delete(key).await {
        Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
        Err(e) => Err(failed(remote, e)),
    }
}

/// The prefixes one level below `prefix`.
async fn sub_prefixes(remote: &Remote, prefix: &Key) -> Result<Vec<Key>> {
    let listed = remote
        .store()
        .list_with_delimiter(Some(prefix))
        .await
        .map_err(|e| failed(remote, e))?;
    let mut out = listed.common_prefixes;
    out.sort();
    Ok(out)
}

/// Every `<table>/date=D/hour=H` prefix, by table and hour.
async fn hours(remote: &Remote) -> Result<Vec<Hour>> {
    let mut out = Vec::new();
    for table in INGESTED_TABLES {
        let table_prefix = remote.prefix().clone().join(table);
        for date in sub_prefixes(remote, &table_prefix).await? {
            for hour in sub_prefixes(remote, &date).await? {
                let at = date
                    .filename()
                    .zip(hour.filename())
                    .and_then(|(d, h)| hour_of_names(d, h));
                if let Some(at) = at {
                    out.push(Hour {
                        table,
                        hour: at,
                        prefix: hour,
                    });
                }
            }
        }
    }
    Ok(out)
}

/// The Parquet objects causet wrote under `prefix` (flushed or merged
/// files), by name, with their sizes.
async fn parquet_objects(remote: &Remote, prefix: &Key) -> Result<Vec<(String, u64)>> {
    let listed = remote
        .store()
        .list_with_delimiter(Some(prefix))
        .await
        .map_err(|e| failed(remote, e))?;
    let mut out: Vec<(String, u64)> = listed
        .objects
        .into_iter()
        .filter_map(|object| {
            let name = object.location.filename()?.to_owned();
            let ours = (name.starts_with("part-") || name.starts_with("compact-"))
                && name.ends_with(".parquet");
            ours.then_some((name, object.size))
        })
        .collect();
    out.sort();
    Ok(out)
}

/// Rows of the objects `keys`, by DataFusion (from their footers).
async fn rows_in(ctx: &SessionContext, remote: &Remote, keys: &[Key]) -> Result<u64> {
    let urls: Vec<String> = keys.iter().map(|k| remote.url_of(k)).collect();
    let frame = ctx
        .read_parquet(urls, datafusion::prelude::ParquetReadOptions::default())
        .await?;
    Ok(u64::try_from(frame.count().await?).unwrap_or(0))
}

/// Finishes or undoes the merge a kill interrupted under `prefix`, as
/// [`super::finish_interrupted`] does in a folder. Whether there was one.
async fn finish_interrupted(remote: &Remote, ctx: &SessionContext, prefix: &Key) -> Result<bool> {
    let journal_key = prefix.clone().join(JOURNAL);
    let bytes = match remote.store().get(&journal_key).await {
        Ok(got) => got.bytes().await.map_err(|e| failed(remote, e))?,
        Err(object_store::Error::NotFound { .. }) => return Ok(false),
        Err(e) => return Err(failed(remote, e)),
    };
    let journal: Journal = serde_json::from_slice(&bytes).map_err(|e| {
        Error::Usage(format!(
            "{}: not a compaction journal ({e})",
            remote.url_of(&journal_key)
        ))
    })?;
    let output = prefix.clone().join(journal.output.as_str());
    let exists = |key: Key| async move {
        match remote.store().head(&key).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(failed(remote, e)),
        }
    };
    if exists(output.clone()).await? {
        let rows = rows_in(ctx, remote, std::slice::from_ref(&output)).await?;
        if rows == journal.rows {
            for input in journal.inputs.iter().filter(|i| **i != journal.output) {
                delete(remote, &prefix.clone().join(input.as_str())).await?;
            }
        } else {
            let mut inputs_whole = true;
            for input in &journal.inputs {
                inputs_whole &= exists(prefix.clone().join(input.as_str())).await?;
            }
            if !inputs_whole {
                return Err(Error::Usage(format!(
                    "{}: holds {rows} rows where the merge wrote {}, and some of its inputs \
                     are gone; left as it is for a person to look at",
                    remote.url_of(&output),
                    journal.rows
                )));
            }
            delete(remote, &output).await?;
        }
    }
    delete(remote, &journal_key).await?;
    Ok(true)
}

/// Merges `files` under `hour` into one sorted object, checks its row
/// count, then replaces them with it (see the module's docs for the
/// order). The rows and the merged object's bytes.
async fn merge(
    remote: &Remote,
    ctx: &SessionContext,
    hour: &Hour,
    files: &[(String, u64)],
    now_ns: i64,
) -> Result<(u64, u64)> {
    let stored = tables::schema_for(hour.table)
        .ok_or_else(|| Error::Usage(format!("no table {}", hour.table)))?;
    let keys: Vec<Key> = files
        .iter()
        .map(|(name, _)| hour.prefix.clone().join(name.as_str()))
        .collect();
    let rows = rows_in(ctx, remote, &keys).await?;
    let urls = keys
        .iter()
        .map(|k| ListingTableUrl::parse(remote.url_of(k)))
        .collect::<datafusion::error::Result<Vec<_>>>()?;
    let output = format!("compact-{now_ns:020}.parquet");
    let tmp = std::env::temp_dir().join(format!(
        "causet-{}-{}-{output}",
        std::process::id(),
        hour.table
    ));
    let written = super::write_sorted(ctx, &stored, hour.table, urls, &tmp).await;
    let result = async {
        let written = written?;
        if written != rows {
            return Err(Error::Usage(format!(
                "{}: the merge wrote {written} rows where its {} files hold {rows}; nothing was \
                 replaced",
                remote.url_of(&hour.prefix),
                files.len()
            )));
        }
        let journal = Journal {
            output: output.clone(),
            inputs: files.iter().map(|(name, _)| name.clone()).collect(),
            rows,
        };
        let text = serde_json::to_vec(&journal).map_err(|e| Error::Usage(e.to_string()))?;
        let journal_key = hour.prefix.clone().join(JOURNAL);
        remote
            .store()
            .put(&journal_key, text.into())
            .await
            .map_err(|e| failed(remote, e))?;
        let output_key = hour.prefix.clone().join(output.as_str());
        remote
            .put_file(&tmp, &output_key)
            .await
            .map_err(|e| failed(remote, e))?;
        for key in &keys {
            delete(remote, key).await?;
        }
        delete(remote, &journal_key).await?;
        let bytes = std::fs::metadata(&tmp).map(|m| m.len()).unwrap_or(0);
        Ok((rows, bytes))
    }
    .await;
    let _ = std::fs::remove_file(&tmp);
    result
}

/// The prefix's compaction lock, held while it exists.
struct Lock<'a> {
    remote: &'a Remote,
    key: Key,
}

impl<'a> Lock<'a> {
    /// Creates the lock object (only if absent), replacing a stale one once.
    async fn take(remote: &'a Remote, now_ns: i64) -> Result<Lock<'a>> {
        let key = remote.prefix().clone().join(LOCK_FILE);
        let body = serde_json::json!({
            "pid": std::process::id(),
            "since_ns": now_ns,
        })
        .to_string();
        for _ in 0..2 {
            let create = PutOptions {
                mode: PutMode::Create,
                ..PutOptions::default()
            };
            match remote
                .store()
                .put_opts(&key, body.clone().into(), create)
                .await
            {
                Ok(_) => return Ok(Lock { remote, key }),
                Err(object_store::Error::AlreadyExists { .. }) => {}
                Err(e) => return Err(failed(remote, e)),
            }
            let held = remote.store().get(&key).await;
            let since = match held {
                Ok(got) => {
                    let bytes = got.bytes().await.map_err(|e| failed(remote, e))?;
                    serde_json::from_slice::<serde_json::Value>(&bytes)
                        .ok()
                        .and_then(|v| v["since_ns"].as_i64())
                }
                // Released in between: try again.
                Err(object_store::Error::NotFound { .. }) => continue,
                Err(e) => return Err(failed(remote, e)),
            };
            if since.is_some_and(|since| now_ns.saturating_sub(since) < LOCK_STALE_NS) {
                return Err(Error::Usage(format!(
                    "{}: another compaction is running (its lock, {}, is less than an hour \
                     old); try again when it ends",
                    remote,
                    remote.url_of(&key)
                )));
            }
            tracing::warn!(lock = %remote.url_of(&key), "replacing a stale compaction lock");
            delete(remote, &key).await?;
        }
        Err(Error::Usage(format!(
            "{remote}: could not take the compaction lock {}",
            remote.url_of(&key)
        )))
    }

    async fn release(self) -> Result<()> {
        delete(self.remote, &self.key).await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use object_store::memory::InMemory;

    fn remote() -> Remote {
        Remote::new(
            url::Url::parse("memory://").unwrap(),
            Arc::new(InMemory::new()) as Arc<dyn ObjectStore>,
            Key::from("data"),
        )
    }

    /// A Parquet file of `rows` rows, as bytes.
    fn parquet(rows: i64) -> Vec<u8> {
        use arrow::array::{Int64Array, RecordBatch};
        let batch = RecordBatch::try_from_iter([(
            "n",
            Arc::new(Int64Array::from_iter_values(0..rows)) as _,
        )])
        .unwrap();
        let mut writer =
            parquet::arrow::ArrowWriter::try_new(Vec::new(), batch.schema(), None).unwrap();
        writer.write(&batch).unwrap();
        writer.into_inner().unwrap()
    }

    /// The states a kill can leave a merge in, each finished or undone.
    #[tokio::test]
    async fn an_interrupted_merge_is_finished_or_undone() {
        let remote = remote();
        let runtime = Settings::default()
            .runtime_for(&Location::Remote(remote.clone()))
            .unwrap();
        let ctx = SessionContext::new_with_config_rt(SessionConfig::new(), runtime);
        let hour = Key::from("data/spans/date=2026-11-25/hour=10");
        let inputs = ["part-a-1.parquet", "part-a-2.parquet"];
        let output = "compact-1.parquet";
        let store = remote.store();
        let names = || async {
            let listed = store.list_with_delimiter(Some(&hour)).await.unwrap();
            let mut names: Vec<String> = listed
                .objects
                .iter()
                .filter_map(|o| o.location.filename().map(str::to_owned))
                .collect();
            names.sort();
            names
        };
        let put = |name: &str, bytes: Vec<u8>| {
            let key = hour.clone().join(name);
            async move { store.put(&key, bytes.into()).await.unwrap() }
        };
        let reset = || async {
            for name in names().await {
                store
                    .delete(&hour.clone().join(name.as_str()))
                    .await
                    .unwrap();
            }
            put(inputs[0], parquet(3)).await;
            put(inputs[1], parquet(4)).await;
            let journal = Journal {
                output: output.into(),
                inputs: inputs.iter().map(|s| s.to_string()).collect(),
                rows: 7,
            };
            put(JOURNAL, serde_json::to_vec(&journal).unwrap()).await;
        };

        // Killed before the upload: undone.
        reset().await;
        assert!(finish_interrupted(&remote, &ctx, &hour).await.unwrap());
        assert_eq!(names().await, inputs);

        // Killed after the upload, before the inputs went: finished.
        reset().await;
        put(output, parquet(7)).await;
        assert!(finish_interrupted(&remote, &ctx, &hour).await.unwrap());
        assert_eq!(names().await, [output]);

        // Killed between deleting the inputs and the journal: finished.
        reset().await;
        put(output, parquet(7)).await;
        store.delete(&hour.clone().join(inputs[0])).await.unwrap();
        store.delete(&hour.clone().join(inputs[1])).await.unwrap();
        assert!(finish_interrupted(&remote, &ctx, &hour).await.unwrap());
        assert_eq!(names().await, [output]);

        // A merged object that is not what the journal says, inputs whole:
        // the inputs are kept.
        reset().await;
        put(output, parquet(5)).await;
        assert!(finish_interrupted(&remote, &ctx, &hour).await.unwrap());
        assert_eq!(names().await, inputs);

        // Nothing to do.
        assert!(!finish_interrupted(&remote, &ctx, &hour).await.unwrap());
    }

    #[tokio::test]
    async fn one_compaction_at_a_time_and_a_stale_lock_is_replaced() {
        let remote = remote();
        let now = 1_795_600_800_000_000_000;
        let held = Lock::take(&remote, now).await.unwrap();
        let refused = Lock::take(&remote, now + 1)
            .await
            .err()
            .unwrap()
            .to_string();
        assert!(
            refused.contains("another compaction is running"),
            "{refused}"
        );
        // A killed run's lock (never released), an hour later.
        drop(held);
        let taken = Lock::take(&remote, now + LOCK_STALE_NS).await.unwrap();
        taken.release().await.unwrap();
        Lock::take(&remote, now)
            .await
            .unwrap()
            .release()
            .await
            .unwrap();
    }
}
