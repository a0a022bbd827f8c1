//! Requests a server has not answered yet, watched so that a person is told, within seconds, what
//! the run is waiting for and until when, instead of a silent log until a timeout minutes later.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use super::event::{Event, Observer};

/// How long a request may go unanswered before it is said, and how often it is said again.
pub(crate) const FIRST_NOTICE: Duration = Duration::from_secs(5);
pub(crate) const REPEAT_NOTICE: Duration = Duration::from_secs(30);

/// One request in flight.
struct Pending {
    origin: String,
    /// `GET /api/server/version`: method and path, never the query (it may hold names).
    what: String,
    sent: Instant,
    /// When this attempt gives up.
    attempt_until: Instant,
    /// When the run gives up on it, retries included.
    run_until: Option<Instant>,
}

#[derive(Default)]
struct Board {
    pending: BTreeMap<u64, Pending>,
    next_id: u64,
    /// When each origin was last told about.
    told: BTreeMap<String, Instant>,
}

/// The requests in flight, and a watcher thread that tells the observer about those that wait.
pub(crate) struct Watch {
    board: Arc<Mutex<Board>>,
}

/// A request's place on the board, taken off when dropped.
pub(crate) struct Entry<'a> {
    watch: &'a Watch,
    id: u64,
}

impl Drop for Entry<'_> {
    fn drop(&mut self) {
        self.watch.board.lock().unwrap_or_else(|p| p.into_inner()).pending.remove(&self.id);
    }
}

impl Watch {
    /// Starts the watcher. Where the system refuses a thread, requests still run; they are only
    /// not announced while they wait.
    pub(crate) fn start(observer: Arc<dyn Observer>, retries: u32, time_limit: String) -> Self {
        let board = Arc::new(Mutex::new(Board::default()));
        let weak = Arc::downgrade(&board);
        let _ = std::thread::Builder::new()
            .name("waiting".into())
            .stack_size(64 * 1024)
            .spawn(move || watch(weak, observer.as_ref(), retries, &time_limit));
        Self { board }
    }

    pub(crate) fn enter(&self, origin: String, what: String, attempt_until: Instant, run_until: Option<Instant>) -> Entry<'_> {
        let mut board = self.board.lock().unwrap_or_else(|p| p.into_inner());
        board.next_id += 1;
        let id = board.next_id;
        board.pending.insert(id, Pending { origin, what, sent: Instant::now(), attempt_until, run_until });
        Entry { watch: self, id }
    }
}

/// Once a second: every origin with a request unanswered for `FIRST_NOTICE` is told about, then
/// every `REPEAT_NOTICE` while it still waits. Ends when the client is gone.
fn watch(board: Weak<Mutex<Board>>, observer: &dyn Observer, retries: u32, time_limit: &str) {
    loop {
        std::thread::sleep(Duration::from_secs(1));
        let Some(board) = board.upgrade() else { return };
        let now = Instant::now();
        let notices: Vec<Notice> = {
            let mut b = board.lock().unwrap_or_else(|p| p.into_inner());
            let mut by_origin: BTreeMap<&str, Vec<&Pending>> = BTreeMap::new();
            for p in b.pending.values().filter(|p| now.duration_since(p.sent) >= FIRST_NOTICE) {
                by_origin.entry(&p.origin).or_default().push(p);
            }
            let due: Vec<Notice> = by_origin
                .into_iter()
                .filter(|(origin, _)| b.told.get(*origin).is_none_or(|t| now.duration_since(*t) >= REPEAT_NOTICE))
                .map(|(origin, waiting)| Notice::of(origin, &waiting, now))
                .collect();
            for n in &due {
                b.told.insert(n.origin.clone(), now);
            }
            due
        };
        drop(board);
        for n in notices {
            observer.note(&Event::Waiting {
                origin: &n.origin,
                requests: &n.requests,
                waited: n.waited,
                attempt_left: n.attempt_left,
                run_left: n.run_left,
                retries,
                time_limit,
            });
        }
    }
}

struct Notice {
    origin: String,
    requests: Vec<String>,
    waited: Duration,
    attempt_left: Duration,
    run_left: Option<Duration>,
}

impl Notice {
    fn of(origin: &str, waiting: &[&Pending], now: Instant) -> Self {
        let oldest = waiting.iter().map(|p| p.sent).min().unwrap_or(now);
        let attempt_until = waiting.iter().map(|p| p.attempt_until).max().unwrap_or(now);
        let run_until = waiting.iter().filter_map(|p| p.run_until).max();
        Notice {
            origin: origin.to_string(),
            requests: waiting.iter().map(|p| p.what.clone()).collect(),
            waited: now.duration_since(oldest),
            attempt_left: attempt_until.saturating_duration_since(now),
            run_left: run_until.map(|u| u.saturating_duration_since(now)),
        }
    }
}
