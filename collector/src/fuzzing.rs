//! Entry points of the fuzz targets (`fuzz/`), also run by the regression
//! tests over every input the fuzzers ever found a problem with. Each takes
//! arbitrary bytes and must return without panicking; what they return is
//! only there so the work cannot be optimised away.

use causet_schema::clocks::{ClockKeys, SpanClocks, VectorClock};
use opentelemetry_proto::tonic::common::v1::KeyValueList;
use prost::Message as _;

use crate::convert::Converted;
use crate::ingest::{Encoding, convert_body};

/// The protobuf walker, OTLP/protobuf bytes straight to Arrow rows. Returns
/// the spans it judged (accepted or rejected).
pub fn otlp_protobuf(data: &[u8]) -> u64 {
    judged(convert_body(data, Encoding::Protobuf))
}

/// OTLP/JSON decode, then conversion to Arrow rows. Returns the spans the
/// conversion judged (accepted or rejected).
pub fn otlp_json(data: &[u8]) -> u64 {
    judged(convert_body(data, Encoding::Json))
}

fn judged(rows: crate::Result<Converted>) -> u64 {
    rows.map_or(0, |rows| rows.accepted() + rows.rejected)
}

/// The clock parsers: the bytes as vector-clock text and JSON, and as a
/// protobuf attribute list read for start and end clocks. Returns the
/// number of clocks and errors found.
pub fn clocks(data: &[u8]) -> usize {
    let mut found = 0;
    if let Ok(text) = std::str::from_utf8(data) {
        found += usize::from(text.parse::<VectorClock>().is_ok());
        found += usize::from(VectorClock::parse_json("causet.vc", text).is_ok());
    }
    if let Ok(list) = KeyValueList::decode(data) {
        for keys in [&ClockKeys::START, &ClockKeys::END] {
            let clocks = SpanClocks::from_attributes(&list.values, keys);
            found += clocks.errors.len()
                + usize::from(clocks.vc.is_some())
                + usize::from(clocks.hlc.is_some())
                + usize::from(clocks.lamport.is_some());
        }
    }
    found
}

/// WAL segment decoding, as recovery reads whatever a crash left on disk.
/// Returns the records read.
pub fn wal_segment(data: &[u8]) -> usize {
    causet_schema::wal::decode_segment(data).map_or(0, |segment| segment.records.len())
}
