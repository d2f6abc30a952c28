//! A small seedable PRNG and Xavier/He initialisation.
//!
//! There is no global random state anywhere in embergrad: the caller owns an [`Rng`] value and
//! passes it in, so the same seed gives the same weights on every target.

use crate::error::{check_len, Result};
use crate::nn::{Activation, Spec};

/// A PCG-XSH-RR 32-bit generator (O'Neill, 2014): 16 bytes of state, fast on 32-bit cores,
/// statistically sound for initialisation and shuffling. Not for cryptography.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rng {
    state: u64,
    increment: u64,
}

const PCG_MULTIPLIER: u64 = 6364136223846793005;

impl Rng {
    /// A generator seeded with `seed` (the stream is fixed, so one seed gives one sequence).
    pub const fn new(seed: u64) -> Self {
        Rng::with_stream(seed, 0xda3e_39cb_94b9_5bdb)
    }

    /// A generator on one of 2⁶³ independent streams: use different `stream`s for
    /// generators that must not be correlated (e.g. one per data shard).
    pub const fn with_stream(seed: u64, stream: u64) -> Self {
        let increment = (stream << 1) | 1;
        // PCG's reference seeding: advance once, add the seed, advance again.
        let state = 0u64.wrapping_mul(PCG_MULTIPLIER).wrapping_add(increment);
        let state = state.wrapping_add(seed);
        let state = state.wrapping_mul(PCG_MULTIPLIER).wrapping_add(increment);
        Rng { state, increment }
    }

    /// The next uniformly distributed `u32`.
    pub fn next_u32(&mut self) -> u32 {
        let old = self.state;
        self.state = old.wrapping_mul(PCG_MULTIPLIER).wrapping_add(self.increment);
        let xorshifted = (((old >> 18) ^ old) >> 27) as u32;
        let rotation = (old >> 59) as u32;
        xorshifted.rotate_right(rotation)
    }

    /// A uniform `f32` in `[0, 1)` with 24 random bits (every value exactly representable).
    pub fn next_f32(&mut self) -> f32 {
        (self.next_u32() >> 8) as f32 * (1.0 / (1u32 << 24) as f32)
    }

    /// A uniform `f32` in `[low, high)`.
    pub fn uniform(&mut self, low: f32, high: f32) -> f32 {
        low + (high - low) * self.next_f32()
    }

    /// A standard normal sample (Box–Muller; one of the pair is discarded to keep no state).
    pub fn normal(&mut self) -> f32 {
        // 1 - u lies in (0, 1], so the logarithm is finite.
        let u1 = 1.0 - self.next_f32();
        let u2 = self.next_f32();
        libm::sqrtf(-2.0 * libm::logf(u1)) * libm::cosf(core::f32::consts::TAU * u2)
    }

    /// A uniform integer in `[0, bound)` without modulo bias (Lemire's method); 0 if `bound` is 0.
    pub fn below(&mut self, bound: u32) -> u32 {
        if bound == 0 {
            return 0;
        }
        let threshold = bound.wrapping_neg() % bound;
        loop {
            let product = u64::from(self.next_u32()) * u64::from(bound);
            if (product as u32) >= threshold {
                return (product >> 32) as u32;
            }
        }
    }

    /// Shuffles a slice in place (Fisher–Yates). Slices longer than `u32::MAX` are shuffled
    /// only within their first `u32::MAX` positions.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        let n = items.len().min(u32::MAX as usize);
        for i in (1..n).rev() {
            let j = self.below(i as u32 + 1) as usize;
            items.swap(i, j);
        }
    }
}

/// How to draw initial weights. Biases always start at zero.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Init {
    /// Glorot/Xavier uniform: `U(-a, a)`, `a = √(6 / (fan_in + fan_out))`
    /// (`torch.nn.init.xavier_uniform_`, gain 1).
    XavierUniform,
    /// Glorot/Xavier normal: `N(0, 2 / (fan_in + fan_out))`.
    XavierNormal,
    /// He/Kaiming uniform: `U(-a, a)`, `a = √(6 / fan_in)` (`kaiming_uniform_`, ReLU gain).
    HeUniform,
    /// He/Kaiming normal: `N(0, 2 / fan_in)` (`kaiming_normal_`, ReLU gain).
    HeNormal,
    /// Per activation ([`Activation::auto_init`]): He normal for the ReLU family (ReLU,
    /// LeakyReLU, GELU, SiLU, ELU, softplus, Mish), Xavier uniform for the others.
    Auto,
}

impl Init {
    /// The concrete scheme used for a layer with this activation.
    pub const fn resolve(self, activation: Activation) -> Init {
        match self {
            Init::Auto => activation.auto_init(),
            other => other,
        }
    }
}

/// Fills `params` for `spec`: weights from `init`, biases zero.
///
/// ```
/// use embergrad::{init_params, Activation, Init, LayerSpec, Rng, Spec};
/// let layers = [LayerSpec::new(3, 2, Activation::Relu)];
/// let spec = Spec::new(&layers);
/// let mut params = [0.0f32; 8];
/// init_params(&spec, &mut params, Init::HeNormal, &mut Rng::new(7)).unwrap();
/// assert!(params[..6].iter().any(|&w| w != 0.0));
/// assert_eq!(&params[6..], &[0.0, 0.0]);
/// ```
#[inline(always)] // a constant `init` then links only the sampler it uses (flash matters on devices)
pub fn init_params(spec: &Spec<'_>, params: &mut [f32], init: Init, rng: &mut Rng) -> Result<()> {
    spec.validate()?;
    check_len("params", spec.param_len(), params.len())?;
    for (offset, layer) in spec.layer_offsets() {
        let (weights, biases) = params[offset..offset + layer.param_len()].split_at_mut(layer.weight_len());
        let fan_in = layer.inputs as f32;
        let fan_out = layer.outputs as f32;
        match init.resolve(layer.activation) {
            Init::XavierUniform => fill_uniform(weights, libm::sqrtf(6.0 / (fan_in + fan_out)), rng),
            Init::XavierNormal => fill_normal(weights, libm::sqrtf(2.0 / (fan_in + fan_out)), rng),
            Init::HeUniform => fill_uniform(weights, libm::sqrtf(6.0 / fan_in), rng),
            Init::HeNormal | Init::Auto => fill_normal(weights, libm::sqrtf(2.0 / fan_in), rng),
        }
        biases.fill(0.0);
    }
    Ok(())
}

fn fill_uniform(values: &mut [f32], bound: f32, rng: &mut Rng) {
    for v in values {
        *v = rng.uniform(-bound, bound);
    }
}

fn fill_normal(values: &mut [f32], std_dev: f32, rng: &mut Rng) {
    for v in values {
        *v = std_dev * rng.normal();
    }
}
