/* C firmware for the Cortex-M4F (QEMU mps2-an386) on the embergrad C interface, every buffer
 * static: trains XOR (2-4-1, tanh and sigmoid, MSE) with SGD and then with Adam, and runs the
 * model the desktop trained (examples/firmware/data/xor-model.ember, linked in as bytes).
 * Exits 0 only if both trainings learned and the desktop model is right. Built with
 * -DBASELINE it keeps the start-up and printing and drops embergrad, for the footprint. */
#include <stddef.h>
#include <stdint.h>

#include "embergrad.h"
#include "semihosting.h"

#ifdef BASELINE
int main(void) {
    semihosting_print_number("baseline build: ", 1.5f);
    return 0;
}
#else

static const eg_layer XOR[2] = {{2, 4, 4 /* tanh */}, {4, 1, 3 /* sigmoid */}};
static const float INPUT[8] = {0, 0, 0, 1, 1, 0, 1, 1};
static const float TARGET[4] = {0, 1, 1, 0};
/* Sized at build time by the header's macros (train() checks them against eg_sizes). */
#define XOR_PARAMS (EG_LAYER_PARAMS(2, 4) + EG_LAYER_PARAMS(4, 1))
#define XOR_WORKSPACE EG_WORKSPACE(4, EG_LAYER_SLOT(4, 4) + EG_LAYER_SLOT(1, 3), 4)
static float params[XOR_PARAMS], grads[XOR_PARAMS], workspace[XOR_WORKSPACE], state[EG_STATE_LEN(2, XOR_PARAMS)];

/* One optimizer's own init and step functions (eg_sgd_init, eg_adam_step, ...): each links
 * only its optimizer, where eg_optimizer_init and eg_optimizer_step link all of them. */
typedef eg_status (*init_fn)(const eg_optimizer *, float *, size_t, uint64_t *);
typedef eg_status (*step_fn)(const eg_optimizer *, float, uint64_t *, float *, const float *, size_t, float *, size_t);

/* XOR trained for `steps` full-batch steps with `optimizer`, whose state is `state_len`
 * floats (eg_optimizer_state_len tells; fixed here, as a firmware sizes its buffers at
 * build time); the last loss. */
static float train(const eg_optimizer *optimizer, init_fn init, step_fn step, size_t state_len, int steps) {
    eg_sizes_t sizes;
    if (eg_sizes(XOR, 2, 4, &sizes) != EG_OK || sizes.params != XOR_PARAMS || sizes.workspace != XOR_WORKSPACE) {
        semihosting_write("xor: unexpected sizes\n");
        return 1.0f;
    }
    uint64_t counter;
    eg_status status = eg_init_uniform(XOR, 2, params, XOR_PARAMS, 42);
    if (status == EG_OK) {
        status = init(optimizer, state, state_len, &counter);
    }
    float loss = 1.0f;
    for (int i = 0; i < steps && status == EG_OK; i++) {
        /* The MSE function links only MSE, where eg_loss_and_gradients links every loss. */
        status = eg_mse_loss_and_gradients(XOR, 2, params, XOR_PARAMS, INPUT, 8, 4, TARGET, 4, grads, XOR_PARAMS, workspace,
                                           XOR_WORKSPACE, &loss);
        if (status == EG_OK) {
            status = step(optimizer, -1.0f, &counter, params, grads, XOR_PARAMS, state, state_len);
        }
    }
    if (status != EG_OK) {
        semihosting_write((const char *)eg_error_message(status));
        semihosting_write("\n");
        return 1.0f;
    }
    return loss;
}

extern const uint8_t _binary_xor_model_ember_start[], _binary_xor_model_ember_end[];

/* The desktop-trained 2-8-2 ReLU model classifies the four XOR inputs. */
static int desktop_model(void) {
    static const eg_layer DESKTOP[2] = {{2, 8, 1 /* relu */}, {8, 2, 0 /* identity */}};
    static float model[42], ws[64], out[8];
    size_t len = (size_t)(_binary_xor_model_ember_end - _binary_xor_model_ember_start);
    if (eg_model_load(DESKTOP, 2, _binary_xor_model_ember_start, len, model, 42) != EG_OK ||
        eg_forward(DESKTOP, 2, model, 42, INPUT, 8, 4, ws, 64, out, 8) != EG_OK) {
        semihosting_write("desktop model: error\n");
        return 0;
    }
    int right = 0;
    for (int i = 0; i < 4; i++) {
        right += (out[2 * i + 1] > out[2 * i]) == (TARGET[i] > 0.5f);
    }
    semihosting_print_number("desktop model right: ", (float)right);
    return right == 4;
}

int main(void) {
    const eg_optimizer sgd = {0, 0, {2.0f, 0, 0, 0, 0, 0}};
    const eg_optimizer adam = {3, 0, {0.05f, 0.9f, 0.999f, 1e-8f, 0, 0}};
    float sgd_loss = train(&sgd, eg_sgd_init, eg_sgd_step, 0, 4000);
    semihosting_print_number("xor (sgd): mse ", sgd_loss);
    float adam_loss = train(&adam, eg_adam_init, eg_adam_step, EG_STATE_LEN(2 /* m and v */, XOR_PARAMS), 2000);
    semihosting_print_number("xor (adam): mse ", adam_loss);
    int desktop = desktop_model();
    return sgd_loss < 0.01f && adam_loss < 0.01f && desktop ? 0 : 1;
}
#endif
