//! A process's resident memory, read from `/proc`, once or sampled while something runs.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The resident set of process `pid` in MiB.
pub fn rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS");
    kb / 1024.0
}

/// Samples a process's resident memory every 50 ms on a thread of its own until stopped.
pub struct RssSampler {
    stop: Arc<AtomicBool>,
    peak: Arc<Mutex<f64>>,
    thread: std::thread::JoinHandle<()>,
}

impl RssSampler {
    pub fn start(pid: u32) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let peak = Arc::new(Mutex::new(0.0f64));
        let (s, p) = (stop.clone(), peak.clone());
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::SeqCst) {
                let r = rss_mib(pid);
                let mut m = p.lock().unwrap();
                *m = m.max(r);
                drop(m);
                std::thread::park_timeout(Duration::from_millis(50));
            }
        });
        Self { stop, peak, thread }
    }

    /// Stops sampling: the highest resident set seen, in MiB.
    pub fn stop(self) -> f64 {
        self.stop.store(true, Ordering::SeqCst);
        self.thread.thread().unpark();
        self.thread.join().expect("sampler");
        let peak = *self.peak.lock().unwrap();
        peak
    }
}
