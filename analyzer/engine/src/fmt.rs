//! How numbers, times and lists read in text: the leaf every layer that
//! writes for people shares (detector summaries for now, the report, the
//! postmortem commands). Nothing here knows what a finding is.

/// Nanoseconds as a duration: `1.500 s`, `250.000 ms`, `12.000 µs`, `80 ns`.
pub fn human_ns(ns: i64) -> String {
    let abs = ns.unsigned_abs();
    let sign = if ns < 0 { "-" } else { "" };
    if abs >= 1_000_000_000 {
        format!("{sign}{:.3} s", abs as f64 / 1e9)
    } else if abs >= 1_000_000 {
        format!("{sign}{:.3} ms", abs as f64 / 1e6)
    } else if abs >= 1_000 {
        format!("{sign}{:.3} µs", abs as f64 / 1e3)
    } else {
        format!("{sign}{abs} ns")
    }
}

/// Nanoseconds since the epoch as RFC 3339 UTC, with as many fractional
/// digits as the time needs (the number itself when out of range).
pub fn rfc3339(ns: i64) -> String {
    let secs = ns.div_euclid(1_000_000_000);
    let nanos = ns.rem_euclid(1_000_000_000) as u32;
    chrono::DateTime::from_timestamp(secs, nanos)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
        .unwrap_or_else(|| ns.to_string())
}

/// `5686` as `5,686`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Bytes in binary units: `512 B`, `1.5 KiB`, `2.0 GiB`.
pub fn human_bytes(bytes: usize) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// The first `n` of `items`, joined, and how many more there are.
pub fn some(items: &[String], n: usize) -> String {
    if items.len() <= n {
        items.join(", ")
    } else {
        format!("{} and {} more", items[..n].join(", "), items.len() - n)
    }
}

/// Text made safe inside HTML and XML, attributes included.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_pick_their_unit() {
        assert_eq!(human_ns(1_500_000_000), "1.500 s");
        assert_eq!(human_ns(-250_000_000), "-250.000 ms");
        assert_eq!(human_ns(12_000), "12.000 µs");
        assert_eq!(human_ns(80), "80 ns");
    }

    #[test]
    fn times_read_as_rfc3339() {
        assert_eq!(rfc3339(1_795_564_800_000_000_000), "2026-11-25T00:00:00Z");
        assert_eq!(
            rfc3339(1_795_564_800_250_000_000),
            "2026-11-25T00:00:00.250Z"
        );
    }

    #[test]
    fn numbers_sizes_and_lists_read_as_people_write_them() {
        assert_eq!(thousands(5686), "5,686");
        assert_eq!(thousands(100), "100");
        assert_eq!(thousands(1_000_000), "1,000,000");
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(3 << 29), "1.5 GiB");
        let items: Vec<String> = ["a", "b", "c"].map(String::from).into();
        assert_eq!(some(&items, 2), "a, b and 1 more");
        assert_eq!(some(&items, 3), "a, b, c");
        assert_eq!(
            escape_html(r#"<a href="x">&'"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
