//! Fixed-window rate limits for the visitor API, per key (a visitor id, an IP address).
//!
//! One window per key and limit: the first request opens a 60-second window; requests beyond
//! the limit inside it get [`Error::RateLimited`] with the seconds until the window ends.
//! Keys whose window has ended are swept when the map grows, so memory stays bounded by the
//! number of keys active in the last minute.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use crate::error::{Error, Result};

const WINDOW: Duration = Duration::from_secs(60);
const SWEEP_AT: usize = 10_000;

#[derive(Default)]
pub struct RateLimiter {
    windows: Mutex<HashMap<String, (Instant, u32)>>,
}

impl RateLimiter {
    /// Counts one request for `key`; refuses it when `per_minute` are already used (0 = off).
    pub fn check(&self, key: &str, per_minute: u32) -> Result<()> {
        self.check_at(key, per_minute, Instant::now())
    }

    fn check_at(&self, key: &str, per_minute: u32, now: Instant) -> Result<()> {
        if per_minute == 0 {
            return Ok(());
        }
        let mut map = self.windows.lock();
        if map.len() >= SWEEP_AT {
            map.retain(|_, (start, _)| now.duration_since(*start) < WINDOW);
        }
        let slot = map.entry(key.to_owned()).or_insert((now, 0));
        if now.duration_since(slot.0) >= WINDOW {
            *slot = (now, 0);
        }
        if slot.1 >= per_minute {
            let left = WINDOW.saturating_sub(now.duration_since(slot.0));
            return Err(Error::RateLimited { retry_after_secs: left.as_secs().max(1) });
        }
        slot.1 += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_per_key_and_resets_after_the_window() {
        let l = RateLimiter::default();
        let t0 = Instant::now();
        for _ in 0..3 {
            l.check_at("a", 3, t0).unwrap();
        }
        let Err(Error::RateLimited { retry_after_secs }) = l.check_at("a", 3, t0 + Duration::from_secs(10))
        else {
            panic!("fourth request must be refused")
        };
        assert_eq!(retry_after_secs, 50);
        l.check_at("b", 3, t0).expect("other keys are independent");
        l.check_at("a", 3, t0 + WINDOW).expect("a new window starts");
        l.check_at("a", 0, t0).expect("0 turns the limit off");
    }
}
