//! Whether, while training, the workers' threads make the steps faster.
//!
//! A virtual machine's second vCPU is not always a core of its own: for minutes at a time two
//! threads may share one physical core, and then a step shared between them runs slower than
//! one step on one thread (docs/PARALLEL.md). Threads never change results, so the trainer can
//! simply time both ways: it runs most steps the way that has been faster and, at the end of
//! every [`PERIOD`] steps, [`PROBE`] steps the other way, and keeps or swaps its choice by
//! comparing their medians with the medians of the steps just before.

/// Steps between two comparisons (the probe's steps included).
pub const PERIOD: usize = 200;

/// Steps timed the other way at the end of each period, and the steps before them compared
/// with them.
pub const PROBE: usize = 5;

/// The other way must be this much faster (median against median) to be taken: two medians of
/// equally fast ways differ by some noise.
const MARGIN: f64 = 0.95;

/// The choice and the timings behind it.
#[derive(Clone, Debug)]
pub struct Pace {
    /// Whether steps are shared between threads, outside the probes.
    sharing: bool,
    /// Steps timed in this period so far.
    step: usize,
    /// The last [`PROBE`] step times the chosen way (a ring).
    chosen: [f64; PROBE],
    /// The probe's step times, the other way.
    other: [f64; PROBE],
}

impl Default for Pace {
    fn default() -> Self {
        Pace { sharing: true, step: 0, chosen: [f64::NAN; PROBE], other: [f64::NAN; PROBE] }
    }
}

impl Pace {
    /// Whether the next step should be shared between threads.
    pub fn next_sharing(&self) -> bool {
        self.sharing != self.probing()
    }

    /// Whether the period has reached its probe steps.
    fn probing(&self) -> bool {
        self.step >= PERIOD - PROBE
    }

    /// Records how long the step [`Pace::next_sharing`] chose took; at the end of a period,
    /// keeps or swaps the choice.
    pub fn record(&mut self, seconds: f64) {
        if self.probing() {
            self.other[self.step - (PERIOD - PROBE)] = seconds;
        } else {
            self.chosen[self.step % PROBE] = seconds;
        }
        self.step += 1;
        if self.step == PERIOD {
            if median(&mut self.other) < MARGIN * median(&mut self.chosen) {
                self.sharing = !self.sharing;
            }
            self.step = 0;
        }
    }
}

/// The median of five values (NaN sorts last).
fn median(values: &mut [f64; PROBE]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[PROBE / 2]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `periods` periods with steps taking `shared` or `alone` seconds; returns the share
    /// of steps run shared in the last period.
    fn run(pace: &mut Pace, periods: usize, shared: f64, alone: f64) -> f64 {
        let mut shared_steps = 0;
        for _ in 0..periods * PERIOD {
            let sharing = pace.next_sharing();
            shared_steps += usize::from(sharing);
            pace.record(if sharing { shared } else { alone });
        }
        shared_steps as f64 / (periods * PERIOD) as f64
    }

    #[test]
    fn keeps_sharing_while_it_pays_and_stops_while_it_does_not() {
        let mut pace = Pace::default();
        // Two cores: sharing stays, but for the probes.
        let share = run(&mut pace, 3, 1.0, 1.6);
        assert!((share - (PERIOD - PROBE) as f64 / PERIOD as f64).abs() < 1e-9, "{share}");
        // One core in two vCPUs: after one period, steps run alone but for the probes.
        run(&mut pace, 1, 1.2, 1.0);
        assert!(!pace.sharing);
        let share = run(&mut pace, 2, 1.2, 1.0);
        assert!((share - PROBE as f64 / PERIOD as f64).abs() < 1e-9, "{share}");
        // Two cores again: back to sharing after the next probe.
        run(&mut pace, 1, 1.0, 1.6);
        assert!(pace.sharing);
    }

    #[test]
    fn a_difference_within_the_margin_changes_nothing() {
        let mut pace = Pace::default();
        run(&mut pace, 4, 1.0, 0.97);
        assert!(pace.sharing);
    }
}
