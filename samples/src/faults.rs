//! The faults a demo run injects: `--faults skew,drop-reply=0.05,...`.

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

    /// Parses `name[=rate],...`; a rate-taking fault named without a rate
    /// gets a default one.
    pub fn parse(list: &str) -> Result<Faults, String> {
        let mut faults = Faults::default();
        for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (name, rate) = match item.split_once('=') {
                Some((n, r)) => (
                    n.trim(),
                    Some(
                        r.trim()
                            .parse::<f64>()
                            .map_err(|_| format!("{item}: the rate must be a number"))?,
                    ),
                ),
                None => (item, None),
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
                        "unknown fault {other:?}; use {}",
                        Faults::NAMES.join(", ")
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
}
