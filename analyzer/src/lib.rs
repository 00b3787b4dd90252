//! causet-analyzer: DataFusion SQL over collected spans and the happens-before graph (work in progress).
