//! Trains XOR with embergrad in a process that links neither std nor libc, then exits with
//! status 0 if the network learned it (MSE < 0.01 and all four outputs on the right side).
#![no_std]
#![no_main]

use core::arch::{asm, global_asm};
use core::fmt::Write;

use embergrad::optim::{Sgd, Step};
use embergrad::{init_params, Activation, Batch, Init, LayerSpec, Loss, Rng, Spec, Target};

const LAYERS: [LayerSpec; 2] = [LayerSpec::new(2, 4, Activation::Tanh), LayerSpec::new(4, 1, Activation::Sigmoid)];
const XOR: Spec<'static> = Spec::new(&LAYERS);
const SAMPLES: usize = 4;
static INPUT: [f32; SAMPLES * 2] = [0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0];
static TARGET: [f32; SAMPLES] = [0.0, 1.0, 1.0, 0.0];

fn train() -> Result<(f32, [f32; SAMPLES]), embergrad::Error> {
    let mut params = [0.0f32; XOR.param_len()];
    let mut grads = [0.0f32; XOR.param_len()];
    let mut workspace = [0.0f32; XOR.workspace_len(SAMPLES)];
    init_params(&XOR, &mut params, Init::XavierUniform, &mut Rng::new(42))?;
    let batch = Batch::new(&INPUT, Target::Values(&TARGET), SAMPLES);
    let mut loss = 0.0;
    for _ in 0..4000 {
        loss = XOR.loss_and_gradients(&params, &batch, Loss::Mse, &mut grads, &mut workspace)?;
        Sgd::new(2.0).step(&mut 0, &mut params, &grads, &mut [])?;
    }
    let mut outputs = [0.0; SAMPLES];
    outputs.copy_from_slice(XOR.forward(&params, &INPUT, SAMPLES, &mut workspace)?);
    Ok((loss, outputs))
}

extern "C" fn rust_start() -> ! {
    match train() {
        Ok((loss, outputs)) => {
            let _ = writeln!(Stdout, "xor (no std, no libc): loss={loss} outputs={outputs:?}");
            let learned = loss < 0.01 && outputs.iter().zip(&TARGET).all(|(y, t)| (*y > 0.5) == (*t > 0.5));
            sys_exit(if learned { 0 } else { 1 })
        }
        Err(e) => {
            let _ = writeln!(Stdout, "error: {e}");
            sys_exit(2)
        }
    }
}

// The kernel starts us with rsp 16-byte aligned and no return address: align, then call Rust.
global_asm!(".globl _start", "_start:", "xor ebp, ebp", "and rsp, -16", "call {entry}", "ud2", entry = sym rust_start);

// What libc would provide: the prebuilt compiler_builtins for this target has no mem*
// functions, and the prebuilt core (built with unwinding) references rust_eh_personality.

/// # Safety
/// `d` and `s` must be valid for `n` bytes and not overlap (the memcpy contract).
#[no_mangle]
pub unsafe extern "C" fn memcpy(d: *mut u8, s: *const u8, n: usize) -> *mut u8 {
    // SAFETY: the caller guarantees the memcpy contract; rep movsb copies exactly n bytes forward.
    unsafe {
        asm!("rep movsb", inout("rcx") n => _, inout("rdi") d => _, inout("rsi") s => _, options(nostack, preserves_flags));
    }
    d
}

/// # Safety
/// `d` and `s` must be valid for `n` bytes (they may overlap).
#[no_mangle]
pub unsafe extern "C" fn memmove(d: *mut u8, s: *const u8, n: usize) -> *mut u8 {
    if (d as usize) <= (s as usize) || (d as usize) >= (s as usize) + n {
        // SAFETY: copying forward is correct when the destination starts before the source or
        // after its end.
        return unsafe { memcpy(d, s, n) };
    }
    // SAFETY: overlapping with the destination after the source: copy backwards (direction
    // flag set, then cleared again as the ABI requires).
    unsafe {
        asm!("std", "rep movsb", "cld", inout("rcx") n => _, inout("rdi") d.add(n - 1) => _,
             inout("rsi") s.add(n - 1) => _, options(nostack));
    }
    d
}

/// # Safety
/// `d` must be valid for `n` bytes.
#[no_mangle]
pub unsafe extern "C" fn memset(d: *mut u8, c: i32, n: usize) -> *mut u8 {
    // SAFETY: the caller guarantees `d` is writable for n bytes.
    unsafe {
        asm!("rep stosb", inout("rcx") n => _, inout("rdi") d => _, in("al") c as u8, options(nostack, preserves_flags));
    }
    d
}

/// # Safety
/// `a` and `b` must be valid for `n` bytes.
#[no_mangle]
pub unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    for i in 0..n {
        // SAFETY: i < n and both pointers are valid for n bytes. Volatile reads stop the
        // compiler from turning this loop back into a call to memcmp.
        let (x, y) = unsafe { (core::ptr::read_volatile(a.add(i)), core::ptr::read_volatile(b.add(i))) };
        if x != y {
            return i32::from(x) - i32::from(y);
        }
    }
    0
}

/// # Safety
/// As [`memcmp`].
#[no_mangle]
pub unsafe extern "C" fn bcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    // SAFETY: same contract as memcmp.
    unsafe { memcmp(a, b, n) }
}

/// Never called: the program is built with panic=abort.
#[no_mangle]
pub extern "C" fn rust_eh_personality() {}

fn sys_write(fd: usize, buf: &[u8]) {
    // SAFETY: write(2) reads buf.len() bytes from a valid slice.
    unsafe {
        asm!("syscall", inlateout("rax") 1usize => _, in("rdi") fd, in("rsi") buf.as_ptr(), in("rdx") buf.len(),
             lateout("rcx") _, lateout("r11") _, options(nostack));
    }
}

fn sys_exit(code: i32) -> ! {
    // SAFETY: exit_group(2) never returns.
    unsafe { asm!("syscall", in("rax") 231usize, in("rdi") code as usize, options(noreturn, nostack)) }
}

struct Stdout;

impl Write for Stdout {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        sys_write(1, s.as_bytes());
        Ok(())
    }
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    let _ = writeln!(Stdout, "panic: {info}");
    sys_exit(101)
}
