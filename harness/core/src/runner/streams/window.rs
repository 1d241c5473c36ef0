//! A map whose entries leave once the stream's clock passes their deadline: how every rule keeps
//! memory bounded by `--window` instead of by the length of the stream.

use std::collections::{HashMap, VecDeque};

/// Entries with a deadline; [`Expiring::expire`] removes those whose deadline has passed.
///
/// Deadlines are queued in insertion order; a stream is close to time-ordered, so the queue's
/// front is close to the earliest deadline. An entry replaced or removed before its deadline
/// leaves a stale queue slot, recognised by its generation and skipped.
#[derive(Debug)]
pub(crate) struct Expiring<V> {
    map: HashMap<String, (u64, V)>,
    queue: VecDeque<(i64, u64, String)>,
    generation: u64,
}

impl<V> Default for Expiring<V> {
    fn default() -> Self {
        Expiring {
            map: HashMap::new(),
            queue: VecDeque::new(),
            generation: 0,
        }
    }
}

impl<V> Expiring<V> {
    /// Insert or replace `key`, to be removed after `deadline` (milliseconds).
    pub(crate) fn insert(&mut self, key: String, value: V, deadline: i64) {
        self.generation += 1;
        self.queue
            .push_back((deadline, self.generation, key.clone()));
        self.map.insert(key, (self.generation, value));
    }

    pub(crate) fn get(&self, key: &str) -> Option<&V> {
        self.map.get(key).map(|(_, v)| v)
    }

    pub(crate) fn get_mut(&mut self, key: &str) -> Option<&mut V> {
        self.map.get_mut(key).map(|(_, v)| v)
    }

    pub(crate) fn remove(&mut self, key: &str) -> Option<V> {
        self.map.remove(key).map(|(_, v)| v)
    }

    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }

    /// Remove every entry whose deadline is before `now`, calling `gone` with each.
    pub(crate) fn expire(&mut self, now: i64, mut gone: impl FnMut(String, V)) {
        while let Some((deadline, generation, _)) = self.queue.front() {
            if *deadline >= now {
                break;
            }
            let generation = *generation;
            let Some((_, _, key)) = self.queue.pop_front() else {
                break;
            };
            if self.map.get(&key).is_some_and(|(g, _)| *g == generation) {
                if let Some((_, v)) = self.map.remove(&key) {
                    gone(key, v);
                }
            }
        }
        // Stale slots of replaced entries cannot pile up beyond the live entries for long: they
        // leave with the deadlines they were queued with.
    }

    /// Every entry left, in no particular order.
    pub(crate) fn drain(&mut self) -> impl Iterator<Item = (String, V)> + '_ {
        self.queue.clear();
        self.map.drain().map(|(k, (_, v))| (k, v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_leave_after_their_deadline_and_refreshed_ones_stay() {
        let mut m = Expiring::default();
        m.insert("a".into(), 1, 10);
        m.insert("b".into(), 2, 20);
        m.insert("a".into(), 3, 30); // refreshed: the slot with deadline 10 is stale
        let mut gone = Vec::new();
        m.expire(25, |k, v| gone.push((k, v)));
        assert_eq!(gone, vec![("b".to_owned(), 2)]);
        assert_eq!(m.get("a"), Some(&3));
        m.expire(31, |k, v| gone.push((k, v)));
        assert_eq!(m.len(), 0);
    }
}
