//! What the simulated network looks like: per-link latency, loss, bandwidth and how long a
//! failed dial takes. Pure settings and the arithmetic on them; the event loop is in
//! [`super::world`].
//!
//! Model: every connection is TCP-like — reliable and FIFO per direction. Loss therefore
//! never removes bytes; a lost segment is retransmitted after a retransmission timeout
//! (doubling on each repeated loss), so loss shows up as extra delay on that frame and, through
//! FIFO order, on the frames queued behind it (head-of-line blocking).

use super::rng::Rng;

/// How the one-way latency of a new link is drawn (fixed for the link's life).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Latency {
    Fixed {
        ms: u64,
    },
    Uniform {
        min_ms: u64,
        max_ms: u64,
    },
    /// Log-normal with the given median and log-space standard deviation, clamped to
    /// `1..=max_ms`.
    LogNormal {
        median_ms: f64,
        sigma: f64,
        max_ms: u64,
    },
}

impl Latency {
    pub fn sample(&self, rng: &mut Rng) -> u64 {
        match *self {
            Latency::Fixed { ms } => ms,
            Latency::Uniform { min_ms, max_ms } => rng.range_inclusive(min_ms, max_ms),
            Latency::LogNormal {
                median_ms,
                sigma,
                max_ms,
            } => {
                let v = median_ms * (sigma * rng.normal()).exp();
                (v.round() as u64).clamp(1, max_ms.max(1))
            }
        }
    }
}

/// Settings of the simulated network.
#[derive(Clone, Debug, PartialEq)]
pub struct NetworkConfig {
    pub latency: Latency,
    /// Probability that a frame needs a retransmission (per try), `0.0..1.0`.
    pub loss: f64,
    /// First retransmission timeout; each further loss of the same frame doubles it.
    pub rto_ms: u64,
    /// Per-link, per-direction bandwidth in bytes per millisecond (0 = unlimited).
    pub bandwidth_bytes_per_ms: u64,
    /// How long a dial to an address nobody listens on takes to fail (a refused connection
    /// costs a round trip; this is the floor).
    pub refused_ms: u64,
    /// How long a dial across a partition takes to fail (a connect timeout).
    pub connect_timeout_ms: u64,
}

impl Default for NetworkConfig {
    /// Internet-like: log-normal latency around 20 ms, no loss, 200 ms RTO, 10 Mbit/s links.
    fn default() -> Self {
        NetworkConfig {
            latency: Latency::LogNormal {
                median_ms: 20.0,
                sigma: 0.5,
                max_ms: 1000,
            },
            loss: 0.0,
            rto_ms: 200,
            bandwidth_bytes_per_ms: 1250,
            refused_ms: 1,
            connect_timeout_ms: 3000,
        }
    }
}

impl NetworkConfig {
    /// Extra delay of one frame caused by loss: the sum of the retransmission timeouts it
    /// waited (capped at eight retransmissions, after which it gets through).
    pub fn loss_delay(&self, rng: &mut Rng) -> u64 {
        let mut delay = 0;
        let mut rto = self.rto_ms;
        for _ in 0..8 {
            if !rng.chance(self.loss) {
                break;
            }
            delay += rto;
            rto = rto.saturating_mul(2);
        }
        delay
    }

    /// Microseconds needed to put `len` bytes on a link.
    pub fn serialisation_us(&self, len: usize) -> u64 {
        if self.bandwidth_bytes_per_ms == 0 {
            return 0;
        }
        (len as u64).saturating_mul(1000) / self.bandwidth_bytes_per_ms
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_loss_means_no_delay_and_certain_loss_is_capped() {
        let mut rng = Rng::new(3);
        let mut cfg = NetworkConfig::default();
        assert_eq!(cfg.loss_delay(&mut rng), 0);
        cfg.loss = 1.0;
        assert_eq!(cfg.loss_delay(&mut rng), 200 * 255);
    }

    #[test]
    fn lognormal_latency_is_clamped() {
        let mut rng = Rng::new(3);
        let lat = Latency::LogNormal {
            median_ms: 20.0,
            sigma: 3.0,
            max_ms: 100,
        };
        for _ in 0..1000 {
            let v = lat.sample(&mut rng);
            assert!((1..=100).contains(&v));
        }
    }
}
