//! Query results as a table, CSV, JSON, JSON lines or Parquet.

use std::io::Write;
use std::str::FromStr;
use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::util::display::{ArrayFormatter, FormatOptions};

use crate::StatementResult;
use crate::error::{Error, Result};

/// An output format of `causet sql`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// An aligned text table (the default).
    #[default]
    Table,
    /// CSV with a header row; nested values (maps, lists) as text.
    Csv,
    /// One JSON array of objects per statement.
    Json,
    /// One JSON object per line.
    Ndjson,
    /// A Parquet file (needs an output file).
    Parquet,
}

impl Format {
    /// Every format's name, for help texts.
    pub const NAMES: [&str; 5] = ["table", "csv", "json", "ndjson", "parquet"];
}

impl FromStr for Format {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "table" => Ok(Format::Table),
            "csv" => Ok(Format::Csv),
            "json" => Ok(Format::Json),
            "ndjson" => Ok(Format::Ndjson),
            "parquet" => Ok(Format::Parquet),
            other => Err(Error::Usage(format!(
                "unknown format {other:?}; use one of {}",
                Format::NAMES.join(", ")
            ))),
        }
    }
}

/// Writes `results` to `out` in `format`. Statements without rows (DDL,
/// `SET`) print nothing in the text formats.
pub fn write(format: Format, results: &[StatementResult], out: &mut dyn Write) -> Result<()> {
    let io = |e: std::io::Error| Error::io(std::path::Path::new("output"), e);
    for result in results {
        if result.schema.fields().is_empty() {
            continue;
        }
        match format {
            Format::Table => {
                let table = arrow::util::pretty::pretty_format_batches_with_schema(
                    Arc::clone(&result.schema),
                    &result.batches,
                )?;
                writeln!(out, "{table}").map_err(io)?;
            }
            Format::Csv => {
                let mut writer = arrow::csv::WriterBuilder::new()
                    .with_header(true)
                    .build(&mut *out);
                let batches = flatten_nested(result)?;
                if batches.is_empty() {
                    writer.write(&RecordBatch::new_empty(text_schema(&result.schema)))?;
                }
                for batch in &batches {
                    writer.write(batch)?;
                }
            }
            Format::Json => {
                let mut writer = arrow::json::ArrayWriter::new(Vec::new());
                for batch in &result.batches {
                    writer.write(batch)?;
                }
                writer.finish()?;
                let json = writer.into_inner();
                // Whether an empty result writes `[]` or nothing depends on
                // whether any (empty) batch was written; always give `[]`.
                out.write_all(if json.is_empty() { b"[]" } else { &json })
                    .map_err(io)?;
                writeln!(out).map_err(io)?;
            }
            Format::Ndjson => {
                let mut writer = arrow::json::LineDelimitedWriter::new(&mut *out);
                for batch in &result.batches {
                    writer.write(batch)?;
                }
                writer.finish()?;
            }
            Format::Parquet => {
                let mut buffer = Vec::new();
                {
                    let mut writer = parquet::arrow::ArrowWriter::try_new(
                        &mut buffer,
                        Arc::clone(&result.schema),
                        None,
                    )
                    .map_err(|e| Error::Usage(e.to_string()))?;
                    for batch in &result.batches {
                        writer
                            .write(batch)
                            .map_err(|e| Error::Usage(e.to_string()))?;
                    }
                    writer.close().map_err(|e| Error::Usage(e.to_string()))?;
                }
                out.write_all(&buffer).map_err(io)?;
            }
        }
    }
    Ok(())
}

fn is_nested(ty: &DataType) -> bool {
    matches!(
        ty,
        DataType::Map(..)
            | DataType::List(_)
            | DataType::LargeList(_)
            | DataType::Struct(_)
            | DataType::FixedSizeList(..)
    )
}

fn text_schema(schema: &Schema) -> Arc<Schema> {
    Arc::new(Schema::new(
        schema
            .fields()
            .iter()
            .map(|f| {
                if is_nested(f.data_type()) {
                    Field::new(f.name(), DataType::Utf8, true)
                } else {
                    f.as_ref().clone()
                }
            })
            .collect::<Vec<_>>(),
    ))
}

/// CSV has no nested values: maps and lists become their display text.
fn flatten_nested(result: &StatementResult) -> Result<Vec<RecordBatch>> {
    let schema = text_schema(&result.schema);
    let options = FormatOptions::default().with_null("");
    result
        .batches
        .iter()
        .map(|batch| {
            let columns = batch
                .columns()
                .iter()
                .map(|array| {
                    if !is_nested(array.data_type()) {
                        return Ok(Arc::clone(array));
                    }
                    let formatter = ArrayFormatter::try_new(array.as_ref(), &options)?;
                    let text: StringArray = (0..array.len())
                        .map(|i| (!array.is_null(i)).then(|| formatter.value(i).to_string()))
                        .collect();
                    Ok(Arc::new(text) as ArrayRef)
                })
                .collect::<Result<Vec<_>>>()?;
            Ok(RecordBatch::try_new(Arc::clone(&schema), columns)?)
        })
        .collect()
}
