/* Start-up for the C firmware on QEMU's mps2-an386 (Cortex-M4F): the vector table, the
 * reset handler (copy .data, zero .bss, enable the FPU, run main, exit through semihosting),
 * and semihosting output. No C library start-up: only what the example needs. */
#include <stdint.h>

#include "semihosting.h"

extern uint32_t _stack_top, _data_start, _data_end, _data_load, _bss_start, _bss_end;
int main(void);
void reset_handler(void);

static void fault(void) {
    semihosting_write("hard fault\n");
    semihosting_exit(1);
}

__attribute__((section(".vectors"), used)) static void (*const vectors[16])(void) = {
    (void (*)(void))&_stack_top, reset_handler, fault, fault, fault, fault, fault,
};

void reset_handler(void) {
    uint32_t *src = &_data_load, *dst = &_data_start;
    while (dst < &_data_end) {
        *dst++ = *src++;
    }
    for (dst = &_bss_start; dst < &_bss_end; dst++) {
        *dst = 0;
    }
    /* CPACR: full access to coprocessors 10 and 11, the FPU. */
    *(volatile uint32_t *)0xE000ED88 |= 0xFu << 20;
    __asm volatile("dsb\n isb");
    semihosting_exit(main());
}

/* What the Rust library's panic handler calls; it never runs (no function can panic). */
void abort(void) {
    semihosting_write("abort\n");
    semihosting_exit(1);
}

static uint32_t semihosting_call(uint32_t op, const void *arg) {
    register uint32_t r0 __asm("r0") = op;
    register const void *r1 __asm("r1") = arg;
    __asm volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

void semihosting_write(const char *text) {
    semihosting_call(0x04 /* SYS_WRITE0 */, text);
}

void semihosting_exit(int status) {
    /* SYS_EXIT with ADP_Stopped_ApplicationExit (QEMU exits 0) or RunTimeErrorUnknown (1). */
    semihosting_call(0x18, (const void *)(uintptr_t)(status == 0 ? 0x20026 : 0x20023));
    for (;;) {
    }
}

void semihosting_print_number(const char *label, float value) {
    char text[48];
    int n = 0;
    for (const char *p = label; *p && n < 24; p++) {
        text[n++] = *p;
    }
    if (value < 0) {
        text[n++] = '-';
        value = -value;
    }
    /* Fixed point with 7 decimals: enough for a loss or an accuracy. */
    uint32_t whole = (uint32_t)value;
    uint32_t frac = (uint32_t)((value - (float)whole) * 10000000.0f);
    char digits[12];
    int d = 0;
    do {
        digits[d++] = (char)('0' + whole % 10);
        whole /= 10;
    } while (whole && d < 10);
    while (d) {
        text[n++] = digits[--d];
    }
    text[n++] = '.';
    for (uint32_t scale = 1000000; scale; scale /= 10) {
        text[n++] = (char)('0' + (frac / scale) % 10);
    }
    text[n++] = '\n';
    text[n] = 0;
    semihosting_write(text);
}
