//! A window is the unit of analysis that can go to another thread or
//! process: its rows and settings serialized in, its findings serialized
//! out. Analysed that way, window by window, and merged, a history gives
//! exactly the findings and estimates the in-process report gives.

use causet_analyzer::windows::WindowSize;
use causet_analyzer::{Analyzer, Settings};
use causet_engine::window::{Merge, WindowFindings, WindowInput};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serialized_windows_give_the_in_process_findings() {
    let dir = tempfile::tempdir().unwrap();
    causet_bench::datagen::generate(dir.path(), 40_000, 3, 10_000).unwrap();
    // 5 s windows cut the 28 s history in six.
    let size = WindowSize::Fixed(5_000_000_000);
    let mut settings = Settings {
        window: size,
        ..Settings::default()
    };
    settings.detect.window_ns = 5_000_000_000;
    let horizon_ns = settings.horizon_ns;
    let analyzer = Analyzer::open_with(dir.path(), settings).await.unwrap();
    let (in_process, _) = analyzer.findings_windowed(size).await.unwrap();

    let windows = analyzer.windows().await.unwrap();
    assert!(windows.len() >= 5, "{} windows", windows.len());
    let mut merge = Merge::new(horizon_ns);
    for window in windows.iter() {
        let input = analyzer.window_input(window).await.unwrap();
        assert!(!input.rows.spans.is_empty());
        let sent = WindowInput::decode(&input.encode().unwrap()).unwrap();
        assert_eq!(sent.bounds, input.bounds);
        let found = sent.analyse().unwrap();
        let back = WindowFindings::decode(&found.encode().unwrap()).unwrap();
        assert_eq!(back, found, "the result survives its bytes");
        assert_eq!(
            back,
            input.analyse().unwrap(),
            "the input survives its bytes"
        );
        merge.push(&window.bounds, back);
    }
    let (findings, estimates) = merge.finish();
    assert!(findings.len() > 20, "{}", findings.len());
    assert_eq!(findings, in_process.findings);
    assert_eq!(estimates.offsets, in_process.offsets);
    assert_eq!(estimates.phi, in_process.phi);
}

#[test]
fn a_damaged_window_is_refused_not_misread() {
    let input = WindowInput {
        bounds: Default::default(),
        config: Default::default(),
        rows: Default::default(),
    };
    let bytes = input.encode().unwrap();
    for cut in [0, 3, 8, bytes.len() - 1] {
        let err = WindowInput::decode(&bytes[..cut]).unwrap_err();
        assert!(err.to_string().contains("window"), "{cut}: {err}");
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(WindowInput::decode(&longer).is_err());
    assert!(WindowFindings::decode(b"{").is_err());
}
