//! Agent presence, in memory: an agent is online while their inbox is open.
//!
//! The inbox calls [`heartbeat`] every ~20 s while it is open (and on focus), [`set_away`] when
//! the agent toggles "away", and [`went_offline`] when the inbox closes. An agent without a
//! heartbeat for `handoff.presence_timeout_secs` counts as offline. Nothing is stored: after a
//! restart everybody is offline until their inbox reconnects, which is the honest answer.
//! Status changes are published on the hub as [`HubEvent::Presence`].

use std::collections::HashMap;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use crate::hub::HubEvent;
use crate::ids::UserId;
use crate::state::AppState;

#[derive(Debug, Clone, Copy)]
struct Entry {
    last_seen: Instant,
    away: bool,
}

/// Who is online. Lives on [`crate::handoff::Runtime`].
#[derive(Default)]
pub struct Presence {
    agents: Mutex<HashMap<UserId, Entry>>,
}

/// `online`, `away` or `offline`.
fn status(e: Option<&Entry>, now: Instant, timeout: Duration) -> &'static str {
    match e {
        Some(e) if now.duration_since(e.last_seen) <= timeout => {
            if e.away {
                "away"
            } else {
                "online"
            }
        }
        _ => "offline",
    }
}

impl Presence {
    /// Records a heartbeat; returns the new status when it changed.
    pub fn beat_at(&self, agent: &UserId, now: Instant, timeout: Duration) -> Option<&'static str> {
        let mut map = self.agents.lock();
        let before = status(map.get(agent), now, timeout);
        let e = map.entry(agent.clone()).or_insert(Entry { last_seen: now, away: false });
        e.last_seen = now;
        let after = status(Some(e), now, timeout);
        (before != after).then_some(after)
    }

    pub fn set_away_at(
        &self,
        agent: &UserId,
        away: bool,
        now: Instant,
        timeout: Duration,
    ) -> Option<&'static str> {
        let mut map = self.agents.lock();
        let before = status(map.get(agent), now, timeout);
        let e = map.entry(agent.clone()).or_insert(Entry { last_seen: now, away });
        e.away = away;
        e.last_seen = now;
        let after = status(Some(e), now, timeout);
        (before != after).then_some(after)
    }

    pub fn remove(&self, agent: &UserId) -> bool {
        self.agents.lock().remove(agent).is_some()
    }

    /// Agents online (heartbeat fresh, not away) at `now`.
    pub fn online_at(&self, now: Instant, timeout: Duration) -> Vec<UserId> {
        let mut map = self.agents.lock();
        map.retain(|_, e| now.duration_since(e.last_seen) <= timeout * 10);
        let mut v: Vec<UserId> = map
            .iter()
            .filter(|(_, e)| status(Some(e), now, timeout) == "online")
            .map(|(k, _)| k.clone())
            .collect();
        v.sort();
        v
    }

    /// `online`, `away` or `offline`.
    pub fn status_at(&self, agent: &UserId, now: Instant, timeout: Duration) -> &'static str {
        status(self.agents.lock().get(agent), now, timeout)
    }
}

fn timeout(state: &AppState) -> Duration {
    Duration::from_secs(state.config().handoff.presence_timeout_secs.max(1))
}

fn publish(state: &AppState, agent: &UserId, changed: Option<&'static str>) {
    if let Some(status) = changed {
        state.hub.publish(HubEvent::Presence { agent: agent.clone(), status: status.to_owned() });
    }
}

/// The agent's inbox is open (call every ~20 s).
pub fn heartbeat(state: &AppState, agent: &UserId) {
    let changed = state.handoff.presence.beat_at(agent, Instant::now(), timeout(state));
    publish(state, agent, changed);
}

/// The agent set themselves away (or back).
pub fn set_away(state: &AppState, agent: &UserId, away: bool) {
    let changed = state.handoff.presence.set_away_at(agent, away, Instant::now(), timeout(state));
    publish(state, agent, changed);
}

/// The agent closed the inbox or signed out.
pub fn went_offline(state: &AppState, agent: &UserId) {
    if state.handoff.presence.remove(agent) {
        publish(state, agent, Some("offline"));
    }
}

/// Agents online now.
pub fn online_agents(state: &AppState) -> Vec<UserId> {
    state.handoff.presence.online_at(Instant::now(), timeout(state))
}

/// `online`, `away` or `offline`.
pub fn status_of(state: &AppState, agent: &UserId) -> &'static str {
    state.handoff.presence.status_at(agent, Instant::now(), timeout(state))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn online_while_heartbeats_arrive_away_on_request() {
        let p = Presence::default();
        let t = Duration::from_secs(60);
        let a = UserId::from("a");
        let b = UserId::from("b");
        let t0 = Instant::now();
        assert_eq!(p.beat_at(&a, t0, t), Some("online"));
        assert_eq!(p.beat_at(&a, t0 + Duration::from_secs(10), t), None, "no change, no event");
        p.beat_at(&b, t0, t);
        assert_eq!(p.online_at(t0 + Duration::from_secs(30), t), vec![a.clone(), b.clone()]);
        assert_eq!(p.set_away_at(&b, true, t0 + Duration::from_secs(30), t), Some("away"));
        assert_eq!(p.online_at(t0 + Duration::from_secs(30), t), vec![a.clone()]);
        // a's last beat was at +10 s: gone after +70 s.
        assert_eq!(p.online_at(t0 + Duration::from_secs(71), t), Vec::<UserId>::new());
        assert_eq!(p.status_at(&a, t0 + Duration::from_secs(71), t), "offline");
        assert_eq!(p.beat_at(&a, t0 + Duration::from_secs(80), t), Some("online"));
    }
}
