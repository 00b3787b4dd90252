//! causet-collector: OTLP receivers into Arrow, a write-ahead log and Parquet (work in progress).
