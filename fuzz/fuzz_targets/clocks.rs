#![no_main]
//! See causet_collector::fuzzing::clocks.

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    std::hint::black_box(causet_collector::fuzzing::clocks(data));
});
