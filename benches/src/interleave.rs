//! Interleaved timing for a noisy shared machine: every contender of a comparison is timed
//! once per round, rounds repeat, and the figures reported are medians over rounds. A slow
//! spell of the machine hits all contenders of the round alike, so the per-round ratios
//! are far steadier than figures taken minutes apart. Each round runs the contenders in a
//! fresh pseudo-random order, so none always follows the same neighbour (whose cache
//! footprint or heavy vector load it would inherit).

use std::time::{Duration, Instant};

/// Something to time: a name, the work one call does (flops, samples...) and the call.
pub struct Contender<'a> {
    /// Shown in the report.
    pub name: String,
    /// Work units one call performs (flops for a GEMM, samples for a training step).
    pub work_per_call: f64,
    /// The call.
    pub run: Box<dyn FnMut() + 'a>,
}

impl<'a> Contender<'a> {
    /// A contender named `name` doing `work_per_call` units of work per call of `run`.
    pub fn new(name: impl Into<String>, work_per_call: f64, run: impl FnMut() + 'a) -> Self {
        Contender { name: name.into(), work_per_call, run: Box::new(run) }
    }
}

/// Calls `run` repeatedly for at least `slice` and returns the seconds per call.
fn seconds_per_call(run: &mut dyn FnMut(), slice: Duration) -> f64 {
    let mut calls = 0u64;
    let start = Instant::now();
    loop {
        run();
        calls += 1;
        let elapsed = start.elapsed();
        if elapsed >= slice {
            return elapsed.as_secs_f64() / calls as f64;
        }
    }
}

/// Fisher–Yates shuffle of `order` driven by the counter-based generator the workloads use,
/// so a run's orders are the same every time.
fn shuffle(order: &mut [usize], round: u64) {
    let draws_per_round = order.len() as u64;
    for i in (1..order.len()).rev() {
        let draw = crate::uniform(0x5eed_07de, round * draws_per_round + i as u64);
        let pick = (f64::from(draw) * (i + 1) as f64) as usize;
        order.swap(i, pick.min(i));
    }
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        0.5 * (values[mid - 1] + values[mid])
    }
}

/// Medians over rounds for one contender: throughput (work units per second) and its ratio
/// to the first contender of the same round.
pub struct Figures {
    /// Contender name.
    pub name: String,
    /// Median work units per second.
    pub throughput: f64,
    /// Median over rounds of this contender's throughput divided by the first one's.
    pub ratio_to_first: f64,
}

/// Times `contenders` in `rounds` rounds of `slice` each (after one warm-up round) and
/// returns their medians, in the order given.
pub fn compare(contenders: &mut [Contender<'_>], rounds: usize, slice: Duration) -> Vec<Figures> {
    for contender in contenders.iter_mut() {
        seconds_per_call(&mut contender.run, slice);
    }
    let count = contenders.len();
    let mut throughputs = vec![Vec::with_capacity(rounds); count];
    let mut order: Vec<usize> = (0..count).collect();
    for round in 0..rounds {
        // A shuffle, not a rotation: rotating the order still has each contender follow the
        // same neighbour in all but one position of the round (measured: two copies of one
        // kernel differed by 2–4% depending on which ran right after the other).
        shuffle(&mut order, round as u64);
        for &i in &order {
            let contender = &mut contenders[i];
            throughputs[i].push(contender.work_per_call / seconds_per_call(&mut contender.run, slice));
        }
    }
    let firsts = throughputs[0].clone();
    contenders
        .iter()
        .zip(throughputs)
        .map(|(contender, mut series)| {
            let mut ratios: Vec<f64> = series.iter().zip(&firsts).map(|(t, f)| t / f).collect();
            Figures {
                name: contender.name.clone(),
                throughput: median(&mut series),
                ratio_to_first: median(&mut ratios),
            }
        })
        .collect()
}
