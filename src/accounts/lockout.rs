//! Sign-in lockout: slows down password guessing without letting anyone lock a member out.
//!
//! The policy (also in the README):
//! 1. **Per client IP**: at most [`super::LOGIN_PER_IP`] sign-in attempts a minute, whatever
//!    the account (one address spraying many accounts).
//! 2. **Per (account, client IP)**: after [`PAIR_FAILURES`] wrong passwords for one account
//!    from one address within [`PAIR_WINDOW`], that address waits for the rest of the window
//!    before it may try that account again. Other addresses, the owner's included, are not
//!    affected. A correct password clears the pair's count.
//! 3. **Per account, softer**: after [`ACCOUNT_FAILURES`] wrong passwords for one account from
//!    anywhere within [`ACCOUNT_WINDOW`] (a distributed guess), every address that has itself
//!    failed for that account in the last [`PAIR_WINDOW`] must wait, so each guessing address
//!    gets one try a minute instead of five. An address without recent failures, like the
//!    owner's, is still let through, and its correct password signs in.
//!
//! Counters are fixed windows in memory (they reset on restart), swept when the map grows.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use crate::error::{Error, Result};

/// Wrong passwords for one account from one address before that pair waits.
pub const PAIR_FAILURES: u32 = 5;
pub const PAIR_WINDOW: Duration = Duration::from_secs(60);
/// Wrong passwords for one account from all addresses before guessing addresses are slowed.
pub const ACCOUNT_FAILURES: u32 = 30;
pub const ACCOUNT_WINDOW: Duration = Duration::from_secs(15 * 60);
const SWEEP_AT: usize = 10_000;

/// Failure counters per key, each in its own fixed window.
#[derive(Default)]
pub struct Lockout {
    windows: Mutex<HashMap<String, (Instant, u32)>>,
}

fn pair_key(email: &str, ip: &str) -> String {
    format!("pair:{email}|{ip}")
}

fn account_key(email: &str) -> String {
    format!("account:{email}")
}

impl Lockout {
    /// Refuses a sign-in attempt the policy says must wait (before the password is hashed).
    pub fn check(&self, email: &str, ip: &str) -> Result<()> {
        self.check_at(email, ip, Instant::now())
    }

    /// Records a wrong password.
    pub fn failed(&self, email: &str, ip: &str) {
        self.failed_at(email, ip, Instant::now())
    }

    /// A correct password: the address's failures for this account are forgotten.
    pub fn succeeded(&self, email: &str, ip: &str) {
        self.windows.lock().remove(&pair_key(email, ip));
    }

    fn check_at(&self, email: &str, ip: &str, now: Instant) -> Result<()> {
        let map = self.windows.lock();
        let current = |key: &str, window: Duration| -> Option<(u32, Duration)> {
            let (start, n) = map.get(key)?;
            let age = now.duration_since(*start);
            (age < window).then(|| (*n, window - age))
        };
        let pair = current(&pair_key(email, ip), PAIR_WINDOW);
        if let Some((n, left)) = pair {
            if n >= PAIR_FAILURES {
                return Err(Error::RateLimited { retry_after_secs: left.as_secs().max(1) });
            }
        }
        if let (Some((n, _)), Some((_, left))) = (current(&account_key(email), ACCOUNT_WINDOW), pair) {
            if n >= ACCOUNT_FAILURES {
                return Err(Error::RateLimited { retry_after_secs: left.as_secs().max(1) });
            }
        }
        Ok(())
    }

    fn failed_at(&self, email: &str, ip: &str, now: Instant) {
        let mut map = self.windows.lock();
        if map.len() >= SWEEP_AT {
            map.retain(|_, (start, _)| now.duration_since(*start) < ACCOUNT_WINDOW);
        }
        for (key, window) in [(pair_key(email, ip), PAIR_WINDOW), (account_key(email), ACCOUNT_WINDOW)] {
            let slot = map.entry(key).or_insert((now, 0));
            if now.duration_since(slot.0) >= window {
                *slot = (now, 0);
            }
            slot.1 += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_guessing_address_waits_and_the_owner_does_not() {
        let l = Lockout::default();
        let t0 = Instant::now();
        for _ in 0..PAIR_FAILURES {
            l.check_at("o@x.eu", "6.6.6.6", t0).unwrap();
            l.failed_at("o@x.eu", "6.6.6.6", t0);
        }
        let Err(Error::RateLimited { retry_after_secs }) =
            l.check_at("o@x.eu", "6.6.6.6", t0 + Duration::from_secs(10))
        else {
            panic!("the guessing address must wait")
        };
        assert_eq!(retry_after_secs, 50);
        l.check_at("o@x.eu", "1.2.3.4", t0).expect("the owner's address is not locked out");
        l.check_at("other@x.eu", "6.6.6.6", t0).expect("other accounts are separate");
        l.check_at("o@x.eu", "6.6.6.6", t0 + PAIR_WINDOW).expect("the window ends");
    }

    #[test]
    fn under_a_distributed_guess_only_addresses_with_failures_wait() {
        let l = Lockout::default();
        let t0 = Instant::now();
        for i in 0..ACCOUNT_FAILURES {
            l.failed_at("o@x.eu", &format!("10.0.0.{i}"), t0);
        }
        assert!(l.check_at("o@x.eu", "10.0.0.1", t0).is_err(), "one failure is enough to wait now");
        l.check_at("o@x.eu", "1.2.3.4", t0).expect("a fresh address may still try");
        l.check_at("o@x.eu", "10.0.0.1", t0 + PAIR_WINDOW).expect("a minute later, one more try");
    }

    #[test]
    fn a_correct_password_clears_the_address() {
        let l = Lockout::default();
        let t0 = Instant::now();
        for _ in 0..PAIR_FAILURES - 1 {
            l.failed_at("o@x.eu", "1.2.3.4", t0);
        }
        l.succeeded("o@x.eu", "1.2.3.4");
        l.failed_at("o@x.eu", "1.2.3.4", t0);
        l.check_at("o@x.eu", "1.2.3.4", t0).expect("the count started over");
    }
}
