//! Trains two networks on a Cortex-M4F with the embergrad core, no allocator, every buffer
//! `static` and sized by the core's `const fn`s:
//! - XOR with a 2-4-1 tanh/sigmoid network, MSE and plain SGD;
//! - the iris data (embedded in flash) with a 4-16-3 ReLU network, softmax cross-entropy and
//!   Adam in minibatches of 8.
//!
//! Prints the loss per epoch and the accuracies over semihosting, and exits with status 0 only
//! if both learned (XOR MSE < 0.01, iris training accuracy >= 90%).
#![no_std]
#![no_main]

use core::ptr::{addr_of, read_volatile, write_volatile};

use cortex_m_rt::{entry, exception, ExceptionFrame};
use cortex_m_semihosting::{debug, hprintln};
use panic_semihosting as _;

#[cfg(not(feature = "baseline"))]
mod train;

/// Fills the free stack below the current stack pointer with this pattern, so the deepest
/// point the stack reached can be found afterwards.
const PAINT: u32 = 0xCAFE_F00D;
const PAINT_BYTES: u32 = 32 * 1024;

extern "C" {
    static _stack_start: u32;
}

#[entry]
fn main() -> ! {
    let sp = cortex_m::register::msp::read();
    let low = sp - PAINT_BYTES;
    let mut address = low;
    while address < sp - 256 {
        // SAFETY: the region below the live stack pointer is unused RAM on this board.
        unsafe { write_volatile(address as *mut u32, PAINT) };
        address += 4;
    }

    #[cfg(not(feature = "baseline"))]
    let ok = train::run();
    #[cfg(feature = "baseline")]
    let ok = {
        // The same printing machinery as the real firmware, without embergrad.
        // SAFETY: reading a value from our own stack.
        let x: f32 = unsafe { read_volatile(&1.5f32) };
        hprintln!("baseline build: {}", x);
        true
    };

    let mut lowest = low;
    // SAFETY: reading back the painted region, still unused RAM.
    while lowest < sp && unsafe { read_volatile(lowest as *const u32) } == PAINT {
        lowest += 4;
    }
    // `_stack_start` is a linker symbol: only its address is taken, never its value.
    let top = addr_of!(_stack_start) as u32;
    hprintln!("peak stack: {} bytes", top - lowest);
    debug::exit(if ok { debug::EXIT_SUCCESS } else { debug::EXIT_FAILURE });
    loop {}
}

/// cortex-m-rt's default handler spins forever (QEMU would hang): report and fail instead.
#[exception]
unsafe fn HardFault(frame: &ExceptionFrame) -> ! {
    hprintln!("HardFault at pc={:#010x}", frame.pc());
    debug::exit(debug::EXIT_FAILURE);
    loop {}
}
