//! The tape: an append-only list of scalar nodes with reverse-mode differentiation.
//!
//! Nodes are appended in creation order, which is already a topological order (an operand
//! always exists before its result), so evaluation is one forward sweep and differentiation
//! one backward sweep over the list: no recursion, so a tape of any length cannot overflow
//! the stack.

use core::marker::PhantomData;

use crate::error::{Error, Result};
use crate::graph::scalar::Scalar;

/// The operation that produces a node's value from its operands `a` and `b`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// A leaf whose value the caller sets (an input or a parameter).
    Input,
    /// A leaf holding a constant.
    Constant,
    /// `a + b`.
    Add,
    /// `a - b`.
    Sub,
    /// `a · b`.
    Mul,
    /// `a / b`.
    Div,
    /// `-a`.
    Neg,
    /// `a^b`, both differentiable.
    PowF,
    /// `a^n` for an integer `n`.
    PowI(i32),
    /// `e^a`.
    Exp,
    /// `ln a`.
    Ln,
    /// `√a`.
    Sqrt,
    /// `|a|` (derivative 0 at 0, as in PyTorch).
    Abs,
    /// `tanh a`.
    Tanh,
    /// The error function `erf a`.
    Erf,
    /// `1 / (1 + e^-a)`.
    Sigmoid,
    /// `max(a, 0)` (derivative 0 at 0; NaN stays NaN).
    Relu,
    /// `max(a, b)`; on a tie the gradient goes to `a`.
    Max,
    /// `min(a, b)`; on a tie the gradient goes to `a`.
    Min,
    /// The sum of the nodes with indices `a..b`.
    Sum,
}

/// One node: its operation, operand indices, value and gradient.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Node<T> {
    op: Op,
    a: u32,
    b: u32,
    value: T,
    grad: T,
}

macro_rules! empty_node {
    ($t:ty, $zero:expr) => {
        impl Node<$t> {
            /// An unused slot, for declaring storage: `[Node::<f32>::EMPTY; 256]`.
            pub const EMPTY: Self = Node { op: Op::Constant, a: 0, b: 0, value: $zero, grad: $zero };
        }
    };
}
empty_node!(f32, 0.0);
empty_node!(f64, 0.0);
empty_node!(wide::f32x8, wide::f32x8::ZERO);

/// Where a tape keeps its nodes: a fixed slice ([`SliceStore`]) or, with `alloc`, a `Vec`.
pub trait NodeStore<T> {
    /// The nodes so far.
    fn nodes(&self) -> &[Node<T>];
    /// The nodes so far, writable.
    fn nodes_mut(&mut self) -> &mut [Node<T>];
    /// Appends a node; false when there is no room.
    fn try_push(&mut self, node: Node<T>) -> bool;
    /// How many nodes fit (`usize::MAX` for a growable store).
    fn capacity(&self) -> usize;
    /// Forgets every node.
    fn clear(&mut self);
    /// An address that identifies this store's memory while it lives (to recognise ids from
    /// other tapes).
    fn identity(&self) -> usize;
}

/// Nodes in a caller-provided slice: a tape with a fixed capacity and no allocation.
#[derive(Debug)]
pub struct SliceStore<'s, T> {
    slots: &'s mut [Node<T>],
    len: usize,
}

impl<'s, T> SliceStore<'s, T> {
    /// Uses `slots` as storage (its current contents are ignored).
    pub fn new(slots: &'s mut [Node<T>]) -> Self {
        SliceStore { slots, len: 0 }
    }
}

impl<T: Copy> NodeStore<T> for SliceStore<'_, T> {
    fn nodes(&self) -> &[Node<T>] {
        &self.slots[..self.len]
    }
    fn nodes_mut(&mut self) -> &mut [Node<T>] {
        &mut self.slots[..self.len]
    }
    fn try_push(&mut self, node: Node<T>) -> bool {
        match self.slots.get_mut(self.len) {
            Some(slot) => {
                *slot = node;
                self.len += 1;
                true
            }
            None => false,
        }
    }
    fn capacity(&self) -> usize {
        self.slots.len()
    }
    fn clear(&mut self) {
        self.len = 0;
    }
    fn identity(&self) -> usize {
        self.slots.as_ptr() as usize
    }
}

#[cfg(feature = "alloc")]
impl<T: Copy> NodeStore<T> for alloc::vec::Vec<Node<T>> {
    fn nodes(&self) -> &[Node<T>] {
        self
    }
    fn nodes_mut(&mut self) -> &mut [Node<T>] {
        self
    }
    fn try_push(&mut self, node: Node<T>) -> bool {
        self.push(node);
        true
    }
    fn capacity(&self) -> usize {
        usize::MAX
    }
    fn clear(&mut self) {
        alloc::vec::Vec::clear(self);
    }
    fn identity(&self) -> usize {
        self.as_ptr() as usize
    }
}

/// A handle to a node of one tape. Using it with another tape is an error
/// ([`Error::UnknownNode`]), detected from the tape's identity and the index.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NodeId {
    index: u32,
    tape: usize,
}

impl NodeId {
    /// The node's position on its tape.
    pub const fn index(self) -> usize {
        self.index as usize
    }
}

/// A tape of scalar operations over numbers of type `T`, stored in `S`.
///
/// ```
/// use embergrad::graph::{Node, SliceStore, Tape};
/// let mut slots = [Node::<f64>::EMPTY; 16];
/// let mut tape = Tape::new(SliceStore::new(&mut slots));
/// let a = tape.input(3.0).unwrap();
/// let b = tape.add(a, a).unwrap(); // a node used twice
/// let c = tape.mul(b, b).unwrap(); // c = 4a²
/// tape.backward(c).unwrap();
/// assert_eq!(tape.grad(a).unwrap(), 24.0); // dc/da = 8a
/// tape.backward(c).unwrap(); // idempotent: no doubling
/// assert_eq!(tape.grad(a).unwrap(), 24.0);
/// tape.set_value(a, 1.0).unwrap();
/// tape.forward(); // re-evaluate without rebuilding
/// assert_eq!(tape.value(c).unwrap(), 4.0);
/// ```
#[derive(Debug)]
pub struct Tape<T, S> {
    store: S,
    identity: usize,
    _scalar: PhantomData<T>,
}

/// A tape in a `Vec` (feature `alloc`): grows as needed.
#[cfg(feature = "alloc")]
pub type VecTape<T> = Tape<T, alloc::vec::Vec<Node<T>>>;

#[cfg(feature = "alloc")]
impl<T: Scalar> Tape<T, alloc::vec::Vec<Node<T>>> {
    /// An empty growable tape with room for `capacity` nodes before it reallocates.
    pub fn with_capacity(capacity: usize) -> Self {
        // At least one slot, so the buffer has a real address to identify the tape by.
        Tape::new(alloc::vec::Vec::with_capacity(capacity.max(1)))
    }
}

impl<T: Scalar, S: NodeStore<T>> Tape<T, S> {
    /// A tape over `store` (emptied first).
    pub fn new(mut store: S) -> Self {
        store.clear();
        let identity = store.identity();
        Tape { store, identity, _scalar: PhantomData }
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.store.nodes().len()
    }

    /// Whether the tape has no nodes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Removes every node (ids handed out before become unknown).
    pub fn clear(&mut self) {
        self.store.clear();
    }

    fn check(&self, id: NodeId) -> Result<usize> {
        let index = id.index();
        if id.tape == self.identity && index < self.len() {
            Ok(index)
        } else {
            Err(Error::UnknownNode { index })
        }
    }

    fn push(&mut self, op: Op, a: usize, b: usize) -> Result<NodeId> {
        let nodes = self.store.nodes();
        let value = evaluate(op, a, b, nodes);
        let index = nodes.len();
        let index32 = u32::try_from(index).map_err(|_| Error::TapeFull { capacity: index })?;
        let node = Node { op, a: a as u32, b: b as u32, value, grad: T::zero() };
        if self.store.try_push(node) {
            Ok(NodeId { index: index32, tape: self.identity })
        } else {
            Err(Error::TapeFull { capacity: self.store.capacity() })
        }
    }

    fn unary(&mut self, op: Op, a: NodeId) -> Result<NodeId> {
        let a = self.check(a)?;
        self.push(op, a, 0)
    }

    fn binary(&mut self, op: Op, a: NodeId, b: NodeId) -> Result<NodeId> {
        let (a, b) = (self.check(a)?, self.check(b)?);
        self.push(op, a, b)
    }

    /// A leaf whose value can be changed later with [`Tape::set_value`].
    pub fn input(&mut self, value: T) -> Result<NodeId> {
        self.leaf(Op::Input, value)
    }

    /// A constant leaf.
    pub fn constant(&mut self, value: T) -> Result<NodeId> {
        self.leaf(Op::Constant, value)
    }

    fn leaf(&mut self, op: Op, value: T) -> Result<NodeId> {
        let id = self.push(op, 0, 0)?;
        self.store.nodes_mut()[id.index()].value = value;
        Ok(id)
    }

    /// `a + b`.
    pub fn add(&mut self, a: NodeId, b: NodeId) -> Result<NodeId> {
        self.binary(Op::Add, a, b)
    }
    /// `a - b`.
    pub fn sub(&mut self, a: NodeId, b: NodeId) -> Result<NodeId> {
        self.binary(Op::Sub, a, b)
    }
    /// `a · b`.
    pub fn mul(&mut self, a: NodeId, b: NodeId) -> Result<NodeId> {
        self.binary(Op::Mul, a, b)
    }
    /// `a / b`.
    pub fn div(&mut self, a: NodeId, b: NodeId) -> Result<NodeId> {
        self.binary(Op::Div, a, b)
    }
    /// `a^b`.
    pub fn powf(&mut self, a: NodeId, b: NodeId) -> Result<NodeId> {
        self.binary(Op::PowF, a, b)
    }
    /// `max(a, b)`.
    pub fn max(&mut self, a: NodeId, b: NodeId) -> Result<NodeId> {
        self.binary(Op::Max, a, b)
    }
    /// `min(a, b)`.
    pub fn min(&mut self, a: NodeId, b: NodeId) -> Result<NodeId> {
        self.binary(Op::Min, a, b)
    }
    /// `-a`.
    pub fn neg(&mut self, a: NodeId) -> Result<NodeId> {
        self.unary(Op::Neg, a)
    }
    /// `a^n`.
    pub fn powi(&mut self, a: NodeId, n: i32) -> Result<NodeId> {
        self.unary(Op::PowI(n), a)
    }
    /// `e^a`.
    pub fn exp(&mut self, a: NodeId) -> Result<NodeId> {
        self.unary(Op::Exp, a)
    }
    /// `ln a`.
    pub fn ln(&mut self, a: NodeId) -> Result<NodeId> {
        self.unary(Op::Ln, a)
    }
    /// `√a`.
    pub fn sqrt(&mut self, a: NodeId) -> Result<NodeId> {
        self.unary(Op::Sqrt, a)
    }
    /// `|a|`.
    pub fn abs(&mut self, a: NodeId) -> Result<NodeId> {
        self.unary(Op::Abs, a)
    }
    /// `tanh a`.
    pub fn tanh(&mut self, a: NodeId) -> Result<NodeId> {
        self.unary(Op::Tanh, a)
    }
    /// The error function of `a`.
    pub fn erf(&mut self, a: NodeId) -> Result<NodeId> {
        self.unary(Op::Erf, a)
    }
    /// The logistic function of `a`.
    pub fn sigmoid(&mut self, a: NodeId) -> Result<NodeId> {
        self.unary(Op::Sigmoid, a)
    }
    /// `max(a, 0)`.
    pub fn relu(&mut self, a: NodeId) -> Result<NodeId> {
        self.unary(Op::Relu, a)
    }

    /// The sum of the `count` consecutive nodes starting at `first` (0 for `count == 0`).
    pub fn sum(&mut self, first: NodeId, count: usize) -> Result<NodeId> {
        let start = self.check(first)?;
        let end = start.checked_add(count).filter(|&end| end <= self.len());
        match end {
            Some(end) => self.push(Op::Sum, start, end),
            None => Err(Error::UnknownNode { index: start.saturating_add(count).saturating_sub(1) }),
        }
    }

    /// The id of the node at `index` (for expressions over consecutive input nodes).
    pub fn node(&self, index: usize) -> Result<NodeId> {
        let id = NodeId { index: u32::try_from(index).unwrap_or(u32::MAX), tape: self.identity };
        self.check(id).map(|_| id)
    }

    /// The node's current value.
    pub fn value(&self, id: NodeId) -> Result<T> {
        Ok(self.store.nodes()[self.check(id)?].value)
    }

    /// The node's gradient from the last backward pass.
    pub fn grad(&self, id: NodeId) -> Result<T> {
        Ok(self.store.nodes()[self.check(id)?].grad)
    }

    /// Sets the value of an input leaf; call [`Tape::forward`] to update the nodes after it.
    pub fn set_value(&mut self, id: NodeId, value: T) -> Result<()> {
        let index = self.check(id)?;
        let node = &mut self.store.nodes_mut()[index];
        if node.op != Op::Input {
            return Err(Error::NotALeaf { index });
        }
        node.value = value;
        Ok(())
    }

    /// Re-evaluates every computed node in order, after inputs changed.
    pub fn forward(&mut self) {
        let nodes = self.store.nodes_mut();
        for i in 0..nodes.len() {
            let Node { op, a, b, .. } = nodes[i];
            if !matches!(op, Op::Input | Op::Constant) {
                nodes[i].value = evaluate(op, a as usize, b as usize, nodes);
            }
        }
    }

    /// Sets every gradient to zero.
    pub fn zero_grad(&mut self) {
        for node in self.store.nodes_mut() {
            node.grad = T::zero();
        }
    }

    /// Computes d`output`/d(every node) into the gradients, replacing what was there: calling
    /// it twice gives the same gradients, not twice them.
    pub fn backward(&mut self, output: NodeId) -> Result<()> {
        self.check(output)?;
        self.zero_grad();
        self.backward_accumulate(output)
    }

    /// Like [`Tape::backward`], but the gradients of the leaves (inputs and constants) are
    /// added to what they hold, as PyTorch accumulates `.grad` of leaf tensors: to sum the
    /// gradients of several outputs. Computed nodes start from zero as always.
    pub fn backward_accumulate(&mut self, output: NodeId) -> Result<()> {
        let last = self.check(output)?;
        let nodes = self.store.nodes_mut();
        for node in nodes.iter_mut().filter(|n| !matches!(n.op, Op::Input | Op::Constant)) {
            node.grad = T::zero();
        }
        nodes[last].grad = nodes[last].grad + T::one();
        for i in (0..=last).rev() {
            propagate(nodes, i);
        }
        Ok(())
    }
}

/// `x^n` by repeated squaring (exact for small `n`, no `pow` call).
fn powi<T: Scalar>(x: T, n: i32) -> T {
    let mut base = x;
    let mut exponent = n.unsigned_abs();
    let mut result = T::one();
    while exponent > 0 {
        if exponent & 1 == 1 {
            result = result * base;
        }
        base = base * base;
        exponent >>= 1;
    }
    if n < 0 {
        T::one() / result
    } else {
        result
    }
}

/// The logistic function without overflow: from `e = e^-|x|`.
fn sigmoid<T: Scalar>(x: T) -> T {
    let e = (-x.abs()).exp();
    let r = T::one() / (T::one() + e);
    x.select_ge(T::zero(), r, e * r)
}

/// The value of a node with operation `op` and operands `a`, `b` (indices into `nodes`).
fn evaluate<T: Scalar>(op: Op, a: usize, b: usize, nodes: &[Node<T>]) -> T {
    let va = || nodes[a].value;
    let vb = || nodes[b].value;
    match op {
        Op::Input | Op::Constant => T::zero(),
        Op::Add => va() + vb(),
        Op::Sub => va() - vb(),
        Op::Mul => va() * vb(),
        Op::Div => va() / vb(),
        Op::Neg => -va(),
        Op::PowF => va().powf(vb()),
        Op::PowI(n) => powi(va(), n),
        Op::Exp => va().exp(),
        Op::Ln => va().ln(),
        Op::Sqrt => va().sqrt(),
        Op::Abs => va().abs(),
        Op::Tanh => va().tanh(),
        Op::Erf => va().erf(),
        Op::Sigmoid => sigmoid(va()),
        // `0 > a ? 0 : a` keeps NaN (the comparison is false for NaN).
        Op::Relu => T::zero().select_gt(va(), T::zero(), va()),
        Op::Max => va().select_ge(vb(), va(), vb()),
        Op::Min => vb().select_ge(va(), va(), vb()),
        Op::Sum => nodes[a..b].iter().fold(T::zero(), |total, n| total + n.value),
    }
}

/// Adds node `i`'s gradient, times its local derivatives, into its operands' gradients.
fn propagate<T: Scalar>(nodes: &mut [Node<T>], i: usize) {
    let Node { op, a, b, value, grad: g } = nodes[i];
    let (a, b) = (a as usize, b as usize);
    let va = nodes[a].value;
    let vb = nodes[b].value;
    let zero = T::zero();
    let one = T::one();
    let mut add = |index: usize, delta: T| nodes[index].grad = nodes[index].grad + delta;
    match op {
        Op::Input | Op::Constant => {}
        Op::Add => {
            add(a, g);
            add(b, g);
        }
        Op::Sub => {
            add(a, g);
            add(b, -g);
        }
        Op::Mul => {
            add(a, g * vb);
            add(b, g * va);
        }
        Op::Div => {
            add(a, g / vb);
            add(b, -g * value / vb);
        }
        Op::Neg => add(a, -g),
        Op::PowF => {
            add(a, g * vb * va.powf(vb - one));
            add(b, g * value * va.ln());
        }
        Op::PowI(n) => add(a, g * T::from_f64(f64::from(n)) * powi(va, n.saturating_sub(1))),
        Op::Exp => add(a, g * value),
        Op::Ln => add(a, g / va),
        Op::Sqrt => add(a, g * T::from_f64(0.5) / value),
        Op::Abs => add(a, va.select_gt(zero, g, zero.select_gt(va, -g, zero))),
        Op::Tanh => add(a, g * (one - value * value)),
        // d erf(x)/dx = 2/√π · e^(-x²)
        Op::Erf => add(a, g * T::from_f64(core::f64::consts::FRAC_2_SQRT_PI) * (-(va * va)).exp()),
        Op::Sigmoid => add(a, g * value * (one - value)),
        Op::Relu => add(a, va.select_gt(zero, g, zero)),
        Op::Max => {
            add(a, va.select_ge(vb, g, zero));
            add(b, va.select_ge(vb, zero, g));
        }
        Op::Min => {
            add(a, vb.select_ge(va, g, zero));
            add(b, vb.select_ge(va, zero, g));
        }
        Op::Sum => {
            for index in a..b {
                add(index, g);
            }
        }
    }
}
