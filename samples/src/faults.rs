//! The faults a demo run injects: `--faults skew,drop-reply=0.05,...`.
//!
//! Besides rates, three faults name nodes and times (offsets from the
//! run's start, `500ms` or `2.5s`):
//!
//! - `partition=START..END:A,B|C,D`: calls between the two sides are lost;
//! - `gray=NODE:slow=50x` (serves everything 50 times slower) or
//!   `gray=NODE:fail=0.05` (answers 5% of client requests 503 without
//!   executing them), while its heartbeats keep going;
//! - `pause=NODE:START..END`: a stop-the-world pause: it sends and answers
//!   nothing, then resumes.

/// Nodes that cannot reach each other for a while.
#[derive(Debug, Clone, PartialEq)]
pub struct Partition {
    /// From, ns after the run's start.
    pub from: i64,
    /// To, ns after the run's start.
    pub to: i64,
    /// One side.
    pub a: Vec<String>,
    /// The other.
    pub b: Vec<String>,
}

impl Partition {
    /// Whether a call between `x` and `y` is lost at `t` ns after the start.
    pub fn cuts(&self, x: &str, y: &str, t: i64) -> bool {
        let on = |side: &[String], n: &str| side.iter().any(|s| s == n);
        (self.from..self.to).contains(&t)
            && ((on(&self.a, x) && on(&self.b, y)) || (on(&self.b, x) && on(&self.a, y)))
    }
}

/// How a gray node is worse at serving.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Gray {
    /// It serves this many times slower.
    Slow(f64),
    /// It rejects this share of client requests with 503.
    Fail(f64),
}

/// A node that stops the world for a while.
#[derive(Debug, Clone, PartialEq)]
pub struct Pause {
    /// The node.
    pub node: String,
    /// From, ns after the run's start.
    pub from: i64,
    /// To, ns after the run's start.
    pub to: i64,
}

/// Fault rates (probabilities per request) and switches.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Faults {
    /// The last replica's clock runs 2 s behind and drifts 200 ppm (see also `--skew`).
    pub skew: bool,
    /// Replica 1's clock steps back 2 s halfway through the run.
    pub clock_jump: bool,
    /// The server executes, the reply is lost, the client times out.
    pub drop_reply: f64,
    /// The request is lost; the client times out.
    pub drop_request: f64,
    /// The server takes longer than the client's timeout.
    pub slow_node: f64,
    /// Two clients write one key through two replicas without coordination.
    pub concurrent_writes: f64,
    /// POSTs sent without an idempotency key.
    pub no_idem_key: f64,
    /// Keyed retries the server fails to deduplicate.
    pub ignore_idem_key: f64,
    /// Network partitions.
    pub partitions: Vec<Partition>,
    /// Gray nodes.
    pub gray: Vec<(String, Gray)>,
    /// Stop-the-world pauses.
    pub pauses: Vec<Pause>,
}

/// `500ms`, `2s`, `1.5s` as ns.
fn duration(text: &str) -> Result<i64, String> {
    let text = text.trim();
    let (number, unit) = if let Some(n) = text.strip_suffix("ms") {
        (n, 1e6)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1e9)
    } else {
        return Err(format!("{text}: a time needs a unit, ms or s"));
    };
    let value: f64 = number
        .trim()
        .parse()
        .map_err(|_| format!("{text}: not a time"))?;
    if !(value >= 0.0 && value.is_finite()) {
        return Err(format!("{text}: not a time"));
    }
    Ok((value * unit) as i64)
}

/// `START..END` as ns.
fn span(text: &str) -> Result<(i64, i64), String> {
    let (from, to) = text
        .split_once("..")
        .ok_or_else(|| format!("{text}: use START..END, e.g. 2s..5s"))?;
    let (from, to) = (duration(from)?, duration(to)?);
    if from >= to {
        return Err(format!("{text}: the end must come after the start"));
    }
    Ok((from, to))
}

fn node_list(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

impl Faults {
    /// Every fault name, for help texts.
    pub const NAMES: [&str; 8] = [
        "skew",
        "clock-jump",
        "drop-reply",
        "drop-request",
        "slow-node",
        "concurrent-writes",
        "no-idem-key",
        "ignore-idem-key",
    ];

    /// The faults that name nodes and times.
    pub const SCHEDULED: [&str; 3] = ["partition", "gray", "pause"];

    /// Parses `name[=rate],...` and the [`Faults::SCHEDULED`] ones; a
    /// rate-taking fault named without a rate gets a default one.
    pub fn parse(list: &str) -> Result<Faults, String> {
        let mut faults = Faults::default();
        // A partition's sides hold commas: a piece that does not start
        // with a fault's name continues the item before it.
        let mut items: Vec<String> = Vec::new();
        for piece in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let name = piece.split('=').next().unwrap_or(piece).trim();
            let known = Faults::NAMES.contains(&name) || Faults::SCHEDULED.contains(&name);
            match items.last_mut() {
                Some(last) if !known => {
                    last.push(',');
                    last.push_str(piece);
                }
                _ => items.push(piece.to_owned()),
            }
        }
        for item in &items {
            if let Some((name, spec)) = item.split_once('=')
                && Faults::SCHEDULED.contains(&name.trim())
            {
                faults.parse_scheduled(name.trim(), spec.trim())?;
                continue;
            }
            let (name, rate) = match item.split_once('=') {
                Some((n, r)) => (
                    n.trim(),
                    Some(
                        r.trim()
                            .parse::<f64>()
                            .map_err(|_| format!("{item}: the rate must be a number"))?,
                    ),
                ),
                None => (item.as_str(), None),
            };
            if rate.is_some_and(|r| !(0.0..=1.0).contains(&r)) {
                return Err(format!("{item}: the rate must be between 0 and 1"));
            }
            let slot = match name {
                "skew" => {
                    faults.skew = true;
                    continue;
                }
                "clock-jump" => {
                    faults.clock_jump = true;
                    continue;
                }
                "drop-reply" => &mut faults.drop_reply,
                "drop-request" => &mut faults.drop_request,
                "slow-node" => &mut faults.slow_node,
                "concurrent-writes" => &mut faults.concurrent_writes,
                "no-idem-key" => &mut faults.no_idem_key,
                "ignore-idem-key" => &mut faults.ignore_idem_key,
                other => {
                    return Err(format!(
                        "unknown fault {other:?}; use {}, or {}",
                        Faults::NAMES.join(", "),
                        Faults::SCHEDULED.join(", ")
                    ));
                }
            };
            *slot = rate.unwrap_or(match name {
                "no-idem-key" => 0.5,
                "ignore-idem-key" => 0.3,
                _ => 0.02,
            });
        }
        Ok(faults)
    }

    /// `partition=START..END:A,B|C,D`, `gray=NODE:slow=50x|fail=0.05`,
    /// `pause=NODE:START..END`.
    fn parse_scheduled(&mut self, name: &str, spec: &str) -> Result<(), String> {
        let item = format!("{name}={spec}");
        let (head, tail) = spec
            .split_once(':')
            .ok_or_else(|| format!("{item}: missing ':'"))?;
        match name {
            "partition" => {
                let (from, to) = span(head)?;
                let (a, b) = tail
                    .split_once('|')
                    .ok_or_else(|| format!("{item}: separate the two sides with '|'"))?;
                let (a, b) = (node_list(a), node_list(b));
                if a.is_empty() || b.is_empty() || a.iter().any(|n| b.contains(n)) {
                    return Err(format!(
                        "{item}: each side needs nodes, and no node on both"
                    ));
                }
                self.partitions.push(Partition { from, to, a, b });
            }
            "pause" => {
                let (from, to) = span(tail)?;
                self.pauses.push(Pause {
                    node: head.trim().to_owned(),
                    from,
                    to,
                });
            }
            _ => {
                let how = match tail.split_once('=') {
                    Some(("slow", x)) => {
                        let factor: f64 = x
                            .trim_end_matches('x')
                            .parse()
                            .map_err(|_| format!("{item}: slow=FACTORx, e.g. slow=50x"))?;
                        if !(factor > 1.0 && factor.is_finite()) {
                            return Err(format!("{item}: the factor must be over 1"));
                        }
                        Gray::Slow(factor)
                    }
                    Some(("fail", r)) => {
                        let rate: f64 = r
                            .parse()
                            .map_err(|_| format!("{item}: fail=RATE, e.g. fail=0.05"))?;
                        if !(rate > 0.0 && rate <= 1.0) {
                            return Err(format!("{item}: the rate must be in (0, 1]"));
                        }
                        Gray::Fail(rate)
                    }
                    _ => return Err(format!("{item}: use slow=50x or fail=0.05")),
                };
                self.gray.push((head.trim().to_owned(), how));
            }
        }
        Ok(())
    }

    /// Every node the scheduled faults name.
    pub fn named_nodes(&self) -> Vec<&str> {
        let mut nodes: Vec<&str> = self
            .partitions
            .iter()
            .flat_map(|p| p.a.iter().chain(&p.b))
            .chain(self.gray.iter().map(|(n, _)| n))
            .chain(self.pauses.iter().map(|p| &p.node))
            .map(String::as_str)
            .collect();
        nodes.sort_unstable();
        nodes.dedup();
        nodes
    }

    /// Every fault at its default rate.
    pub fn all() -> Faults {
        Faults::parse(&Faults::NAMES.join(",")).expect("the names parse")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_rates_parse() {
        let f = Faults::parse("skew, drop-reply=0.1,no-idem-key").unwrap();
        assert!(f.skew && !f.clock_jump);
        assert_eq!(f.drop_reply, 0.1);
        assert_eq!(f.no_idem_key, 0.5);
        assert!(Faults::parse("drop-reply=2").is_err());
        assert!(
            Faults::parse("gremlins")
                .unwrap_err()
                .contains("unknown fault")
        );
        assert_eq!(Faults::parse("").unwrap(), Faults::default());
    }

    #[test]
    fn scheduled_faults_parse_with_their_commas() {
        let f = Faults::parse(
            "skew,partition=2s..5.5s:kv-0,kv-1|kv-2,kv-3,pause=kv-4:500ms..1s,gray=kv-2:slow=50x,gray=kv-3:fail=0.05,drop-reply",
        )
        .unwrap();
        assert!(f.skew);
        assert_eq!(f.drop_reply, 0.02);
        assert_eq!(
            f.partitions,
            vec![Partition {
                from: 2_000_000_000,
                to: 5_500_000_000,
                a: vec!["kv-0".into(), "kv-1".into()],
                b: vec!["kv-2".into(), "kv-3".into()],
            }]
        );
        assert!(f.partitions[0].cuts("kv-3", "kv-0", 3_000_000_000));
        assert!(!f.partitions[0].cuts("kv-3", "kv-2", 3_000_000_000));
        assert!(!f.partitions[0].cuts("kv-3", "kv-0", 6_000_000_000));
        assert_eq!(
            f.pauses,
            vec![Pause {
                node: "kv-4".into(),
                from: 500_000_000,
                to: 1_000_000_000
            }]
        );
        assert_eq!(
            f.gray,
            vec![
                ("kv-2".into(), Gray::Slow(50.0)),
                ("kv-3".into(), Gray::Fail(0.05))
            ]
        );
        for bad in [
            "partition=2s..1s:a|b",
            "partition=1s..2s:a,b",
            "partition=1s..2s:a|a",
            "pause=kv-1:1..2",
            "gray=kv-1:slow=0.5x",
            "gray=kv-1:fail=2",
            "gray=kv-1",
        ] {
            assert!(Faults::parse(bad).is_err(), "{bad}");
        }
    }
}
