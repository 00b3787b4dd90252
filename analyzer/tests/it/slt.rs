//! Runs every `tests/slt/*.slt` file against an analyzer over the samples
//! its first line names (`# samples: partition, gray-failure`; by default
//! `lamport-seed`).
//!
//! The format is sqllogictest's (see DataFusion's sqllogictest README): each
//! `query` block lists its expected rows, values as text, NULL as `NULL`.

use std::path::Path;
use std::sync::Arc;

use arrow::util::display::{ArrayFormatter, FormatOptions};
use async_trait::async_trait;
use causet_analyzer::Analyzer;
use sqllogictest::{AsyncDB, DBOutput, DefaultColumnType};

struct Db(Arc<Analyzer>);

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct DbError(String);

#[async_trait]
impl AsyncDB for Db {
    type Error = DbError;
    type ColumnType = DefaultColumnType;

    async fn run(&mut self, sql: &str) -> Result<DBOutput<DefaultColumnType>, DbError> {
        let results = self.0.run(sql).await.map_err(|e| DbError(e.to_string()))?;
        let Some(last) = results.last() else {
            return Ok(DBOutput::StatementComplete(0));
        };
        if last.schema.fields().is_empty() {
            return Ok(DBOutput::StatementComplete(0));
        }
        let options = FormatOptions::default().with_null("NULL");
        let mut rows = Vec::new();
        for batch in &last.batches {
            let formatters = batch
                .columns()
                .iter()
                .map(|c| ArrayFormatter::try_new(c.as_ref(), &options))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| DbError(e.to_string()))?;
            for row in 0..batch.num_rows() {
                rows.push(
                    formatters
                        .iter()
                        .map(|f| f.value(row).to_string())
                        .collect(),
                );
            }
        }
        Ok(DBOutput::Rows {
            types: vec![DefaultColumnType::Any; last.schema.fields().len()],
            rows,
        })
    }

    async fn shutdown(&mut self) {}
}

/// The samples a file runs over: its first line `# samples: a, b`, else
/// `lamport-seed`.
fn samples_of(file: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(file).unwrap();
    match text
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("# samples:"))
    {
        Some(list) => list.split(',').map(|s| s.trim().to_owned()).collect(),
        None => vec!["lamport-seed".to_owned()],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sql_logic_tests() {
    let slt_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/slt");
    let mut files: Vec<_> = std::fs::read_dir(&slt_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "slt"))
        .collect();
    files.sort();
    assert!(!files.is_empty());
    for file in files {
        let samples = samples_of(&file);
        let names: Vec<&str> = samples.iter().map(String::as_str).collect();
        let dir = crate::common::imported(&names).await;
        let analyzer = Arc::new(Analyzer::open(dir.path()).await.unwrap());
        let mut runner = sqllogictest::Runner::new(move || {
            let analyzer = Arc::clone(&analyzer);
            async move { Ok::<_, DbError>(Db(analyzer)) }
        });
        if let Err(e) = runner.run_file_async(&file).await {
            panic!("{}: {e}", file.display());
        }
    }
}
