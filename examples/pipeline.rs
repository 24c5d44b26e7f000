//! A producer, a pool of workers fed over a channel, and the results sent
//! back over a second channel: a clean program whose only ordering is the
//! channels (the job table's locks are std's, which raceway does not see),
//! and its `--racy` variant, where a worker announces a job done before it
//! writes the result, so the collector may read a stale one.
//!
//! `raceway::sync::mpsc` carries each sender's clock with its message: the
//! clean run reports nothing, the racy one reports the data race on
//! `Job[…].output` with both source lines.
//!
//! Run with `cargo run --example pipeline` (add `-- --racy` for the bug).

use raceway::sync::mpsc;
use raceway::{thread, tracked, Config, Traced};
use std::sync::Mutex;

#[derive(Traced)]
struct Job {
    #[traced(key)]
    id: usize,
    input: i64,
    output: i64,
}

const JOBS: usize = 8;
const WORKERS: usize = 3;

fn worker(table: &[Mutex<Job>], jobs: &Mutex<mpsc::Receiver<usize>>, done: mpsc::Sender<usize>, racy: bool) {
    loop {
        let next = jobs.lock().unwrap().recv();
        let Ok(i) = next else { break };
        let input = {
            let job = table[i].lock().unwrap();
            tracked!(job.input)
        };
        let output = input * 2;
        if racy {
            // The bug: announced before the result is written.
            done.send(i).unwrap();
        }
        {
            let mut job = table[i].lock().unwrap();
            tracked!(job.output = output);
        }
        if !racy {
            done.send(i).unwrap();
        }
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let racy = std::env::args().any(|a| a == "--racy");
    let guard = raceway::init(Config { service_name: "pipeline".into(), ..Config::from_env()? })?;

    let table: Vec<Mutex<Job>> = (0..JOBS).map(|id| Mutex::new(Job { id, input: 0, output: 0 })).collect();
    let (jobs_tx, jobs_rx) = mpsc::channel::<usize>();
    let jobs_rx = Mutex::new(jobs_rx);
    let (done_tx, done_rx) = mpsc::channel::<usize>();
    let mut total = 0;
    thread::scope(|s| {
        for _ in 0..WORKERS {
            let (table, jobs_rx, done_tx) = (&table, &jobs_rx, done_tx.clone());
            s.spawn(move || worker(table, jobs_rx, done_tx, racy));
        }
        drop(done_tx);
        // The producer.
        for (i, job) in table.iter().enumerate() {
            {
                let mut job = job.lock().unwrap();
                tracked!(job.input = i as i64 * 10);
            }
            jobs_tx.send(i).unwrap();
        }
        drop(jobs_tx);
        // The collector.
        for i in done_rx.iter() {
            let job = table[i].lock().unwrap();
            total += tracked!(job.output);
        }
    });
    println!("total of the outputs: {total} (expected {})", (0..JOBS as i64).map(|i| i * 20).sum::<i64>());
    drop(guard); // prints the report
    Ok(())
}
