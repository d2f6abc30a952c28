//! Soak run: trains MNIST (784-256-128-10, Adam) for many epochs and prints the process's
//! resident memory after each, to show that memory does not grow with training time.
//!
//! `cargo run --release -p embergrad-std --example soak -- ../shared/data/mnist 50`

use embergrad::optim::{Adam, Optimizer};
use embergrad::{Activation, Init, LayerSpec, Mlp, Rng};
use embergrad_std::trainer::{Trainer, TrainerConfig};
use embergrad_std::Dataset;

/// A field of /proc/self/status in kB (Linux), e.g. "VmRSS" or "VmHWM" (peak).
fn status_kb(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = std::path::PathBuf::from(args.next().unwrap_or_else(|| "../shared/data/mnist".into()));
    let epochs: usize = args.next().map_or(Ok(50), |s| s.parse())?;
    let train =
        Dataset::from_idx(dir.join("train-images-idx3-ubyte.gz"), dir.join("train-labels-idx1-ubyte.gz"), 1.0 / 255.0)?;
    let layers = [
        LayerSpec::new(784, 256, Activation::Relu),
        LayerSpec::new(256, 128, Activation::Relu),
        LayerSpec::new(128, 10, Activation::Identity),
    ];
    let mut net = Mlp::new(&layers, Init::Auto, &mut Rng::new(1))?;
    let config = TrainerConfig {
        epochs,
        batch_size: 256,
        optimizer: Optimizer::Adam(Adam::default()),
        progress: false,
        ..TrainerConfig::default()
    };
    let mut trainer = Trainer::new(config, net.params().len())?;
    let mut first = None;
    trainer.fit(&mut net, &train, None, |report, _| {
        let (rss, peak) = (status_kb("VmRSS").unwrap_or(0), status_kb("VmHWM").unwrap_or(0));
        first.get_or_insert(peak);
        println!("epoch {:>3}  loss {:.4}  RSS {rss} kB  peak RSS {peak} kB", report.epoch, report.train_loss);
    })?;
    let last = status_kb("VmHWM").unwrap_or(0);
    println!("peak RSS after epoch 1: {} kB, after epoch {epochs}: {last} kB", first.unwrap_or(0));
    Ok(())
}
