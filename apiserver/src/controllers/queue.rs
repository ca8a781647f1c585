//! The controllers' work queue: items are deduplicated (an item waiting to be processed is
//! not queued twice) and can be scheduled for later (the earliest request wins), as
//! client-go's rate-limited work queue does for the real controllers.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet, VecDeque};
use std::hash::Hash;
use std::time::{Duration, Instant};

/// A deduplicating FIFO with delayed additions.
#[derive(Debug)]
pub struct WorkQueue<T: Clone + Eq + Hash + Ord> {
    ready: VecDeque<T>,
    queued: HashSet<T>,
    /// The earliest time each delayed item is due.
    due: HashMap<T, Instant>,
    /// Delayed items by due time; entries whose time no longer matches `due` are stale.
    timers: BinaryHeap<Reverse<(Instant, T)>>,
}

impl<T: Clone + Eq + Hash + Ord> Default for WorkQueue<T> {
    fn default() -> Self {
        Self {
            ready: VecDeque::new(),
            queued: HashSet::new(),
            due: HashMap::new(),
            timers: BinaryHeap::new(),
        }
    }
}

impl<T: Clone + Eq + Hash + Ord> WorkQueue<T> {
    /// Queues `item` now, unless it is already waiting.
    pub fn add(&mut self, item: T) {
        if self.queued.insert(item.clone()) {
            self.ready.push_back(item);
        }
    }

    /// Queues `item` once `delay` has passed (from `now`), unless it is due earlier anyway.
    pub fn add_after(&mut self, item: T, delay: Duration, now: Instant) {
        if delay.is_zero() {
            self.add(item);
            return;
        }
        let at = now + delay;
        match self.due.get(&item) {
            Some(existing) if *existing <= at => {}
            _ => {
                self.due.insert(item.clone(), at);
                self.timers.push(Reverse((at, item)));
            }
        }
    }

    /// The next item to process at `now`: due delayed items join the queue first.
    pub fn pop(&mut self, now: Instant) -> Option<T> {
        while let Some(Reverse((at, _))) = self.timers.peek() {
            if *at > now {
                break;
            }
            let Some(Reverse((at, item))) = self.timers.pop() else {
                break;
            };
            if self.due.get(&item) == Some(&at) {
                self.due.remove(&item);
                self.add(item);
            }
        }
        let item = self.ready.pop_front()?;
        self.queued.remove(&item);
        Some(item)
    }

    /// When the next delayed item is due, if any.
    pub fn next_due(&self) -> Option<Instant> {
        self.due.values().min().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_item_waiting_in_the_queue_is_not_queued_twice() {
        let mut queue = WorkQueue::default();
        let now = Instant::now();
        queue.add("a");
        queue.add("b");
        queue.add("a");
        assert_eq!(queue.pop(now), Some("a"));
        assert_eq!(queue.pop(now), Some("b"));
        assert_eq!(queue.pop(now), None);
        queue.add("a");
        assert_eq!(queue.pop(now), Some("a"));
    }

    #[test]
    fn delayed_items_come_out_when_due_and_the_earliest_request_wins() {
        let mut queue = WorkQueue::default();
        let now = Instant::now();
        queue.add_after("late", Duration::from_secs(10), now);
        queue.add_after("late", Duration::from_secs(5), now);
        queue.add_after("late", Duration::from_secs(20), now);
        assert_eq!(queue.next_due(), Some(now + Duration::from_secs(5)));
        assert_eq!(queue.pop(now), None);
        assert_eq!(queue.pop(now + Duration::from_secs(5)), Some("late"));
        assert_eq!(queue.pop(now + Duration::from_secs(30)), None);
        assert_eq!(queue.next_due(), None);
    }
}
