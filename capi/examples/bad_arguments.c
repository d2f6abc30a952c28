/* Calls every function of the embergrad C interface with null pointers, zero lengths, wrong
 * sizes and unknown codes: each must return an error status (never crash, never write past
 * a buffer: run under AddressSanitizer and UBSan), and a failed call must leave its outputs
 * as they were. Exits 0 only if every call behaved. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "embergrad.h"

static int failures = 0;

static void expect_error(eg_status status, const char *what) {
    if (status == EG_OK) {
        fprintf(stderr, "FAIL: %s succeeded\n", what);
        failures++;
    } else if (eg_error_message(status) == NULL || strlen((const char *)eg_error_message(status)) == 0) {
        fprintf(stderr, "FAIL: %s: no message for status %d\n", what, status);
        failures++;
    }
}

int main(void) {
    const eg_layer layers[2] = {{2, 3, 4 /* tanh */}, {3, 1, 3 /* sigmoid */}};
    const eg_layer bad_code[1] = {{2, 3, 99}};
    const eg_layer zero_width[1] = {{2, 0, 1}};
    const eg_layer unchained[2] = {{2, 3, 1}, {4, 1, 0}};
    eg_sizes_t sizes;
    expect_error(eg_sizes(NULL, 2, 4, &sizes), "sizes with null layers");
    expect_error(eg_sizes(layers, 0, 4, &sizes), "sizes with no layers");
    expect_error(eg_sizes(bad_code, 1, 4, &sizes), "sizes with an unknown activation");
    expect_error(eg_sizes(zero_width, 1, 4, &sizes), "sizes with a zero width");
    expect_error(eg_sizes(unchained, 2, 4, &sizes), "sizes with unchained widths");
    expect_error(eg_sizes(layers, 17, 4, &sizes), "sizes with too many layers");
    expect_error(eg_sizes(layers, 2, 4, NULL), "sizes with a null output");
    if (eg_sizes(layers, 2, 4, &sizes) != EG_OK || sizes.params != 13) {
        fprintf(stderr, "FAIL: sizes of a 2-3-1 network\n");
        return 1;
    }

    /* The build-time macros give eg_sizes' numbers, for every activation (slots of one or
     * two floats a sample) and networks too small to pack. */
    for (uint32_t code = 0; code <= 10; code++) {
        const eg_layer net[3] = {{3, 5, code}, {5, 4, 4 /* tanh */}, {4, 2, 0}};
        for (size_t batch = 1; batch <= 4; batch += 3) {
            eg_sizes_t got;
            const size_t params = EG_LAYER_PARAMS(3, 5) + EG_LAYER_PARAMS(5, 4) + EG_LAYER_PARAMS(4, 2);
            const size_t slots = EG_LAYER_SLOT(5, code) + EG_LAYER_SLOT(4, 4) + EG_LAYER_SLOT(2, 0);
            if (eg_sizes(net, 3, batch, &got) != EG_OK || got.params != params ||
                got.workspace != EG_WORKSPACE(batch, slots, 5) || got.forward_workspace != EG_FORWARD_WORKSPACE(batch, slots) ||
                got.model_file != EG_MODEL_FILE_BYTES(3, params)) {
                fprintf(stderr, "FAIL: the size macros disagree with eg_sizes (activation %u, batch %zu)\n", code, batch);
                failures++;
            }
        }
    }
    size_t adam_state = 0;
    const eg_optimizer adam_for_size = {3, 0, {0.01f, 0.9f, 0.999f, 1e-8f, 0, 0}};
    if (eg_optimizer_state_len(&adam_for_size, 13, &adam_state) != EG_OK || adam_state != EG_STATE_LEN(2, 13)) {
        fprintf(stderr, "FAIL: EG_STATE_LEN disagrees with eg_optimizer_state_len\n");
        failures++;
    }

    float params[13], before[13], grads[13], workspace[256], out[4];
    expect_error(eg_init(layers, 2, NULL, 13, 1), "init with null params");
    expect_error(eg_init(layers, 2, params, 12, 1), "init with short params");
    if (eg_init(layers, 2, params, 13, 1) != EG_OK) {
        fprintf(stderr, "FAIL: init\n");
        return 1;
    }
    memcpy(before, params, sizeof params);
    const float input[8] = {0, 0, 0, 1, 1, 0, 1, 1};
    const float target[4] = {0, 1, 1, 0};
    const uint32_t classes[4] = {0, 1, 1, 0};
    float loss = -1.0f;
    expect_error(eg_forward(layers, 2, params, 13, NULL, 8, 4, workspace, 256, out, 4), "forward with null input");
    expect_error(eg_forward(layers, 2, params, 13, input, 7, 4, workspace, 256, out, 4), "forward with a short input");
    expect_error(eg_forward(layers, 2, params, 13, input, 8, 4, workspace, 3, out, 4), "forward with a small workspace");
    expect_error(eg_forward(layers, 2, params, 13, input, 8, 4, workspace, 256, out, 3), "forward with a short output");
    expect_error(eg_forward(layers, 2, params, 13, input, 0, 0, workspace, 256, out, 0), "forward of zero samples");
    expect_error(eg_loss_and_gradients(layers, 2, params, 13, input, 8, 4, 9, 0.0f, target, 4, NULL, 0, grads, 13, workspace, 256, &loss),
                 "loss with an unknown code");
    expect_error(eg_loss_and_gradients(layers, 2, params, 13, input, 8, 4, 0, 0.0f, NULL, 4, NULL, 0, grads, 13, workspace, 256, &loss),
                 "mse with null targets");
    expect_error(eg_loss_and_gradients(layers, 2, params, 13, input, 8, 4, 0, 0.0f, target, 3, NULL, 0, grads, 13, workspace, 256, &loss),
                 "mse with short targets");
    expect_error(eg_loss_and_gradients(layers, 2, params, 13, input, 8, 4, 4, 0.0f, NULL, 0, classes, 4, grads, 13, workspace, 256, &loss),
                 "softmax_ce on one output with labels 1");
    expect_error(eg_loss_and_gradients(layers, 2, params, 13, input, 8, 4, 0, 0.0f, target, 4, NULL, 0, grads, 12, workspace, 256, &loss),
                 "loss with short grads");
    expect_error(eg_loss_and_gradients(layers, 2, params, 13, input, 8, 4, 0, 0.0f, target, 4, NULL, 0, grads, 13, workspace, 256, NULL),
                 "loss with a null output");
    /* The one-loss functions: the same refusals. */
    expect_error(eg_mse_loss_and_gradients(layers, 2, params, 13, input, 8, 4, NULL, 4, grads, 13, workspace, 256, &loss),
                 "mse with null targets");
    expect_error(eg_mse_loss_and_gradients(layers, 2, params, 13, input, 8, 4, target, 3, grads, 13, workspace, 256, &loss),
                 "mse with short targets");
    expect_error(eg_mse_loss_and_gradients(layers, 2, params, 13, input, 8, 4, target, 4, grads, 13, workspace, 256, NULL),
                 "mse with a null output");
    expect_error(eg_mse_loss_and_gradients(NULL, 2, params, 13, input, 8, 4, target, 4, grads, 13, workspace, 256, &loss),
                 "mse with null layers");
    expect_error(eg_l1_loss_and_gradients(layers, 2, params, 13, input, 8, 4, target, 4, grads, 12, workspace, 256, &loss),
                 "l1 with short grads");
    expect_error(eg_l1_loss_and_gradients(layers, 2, params, 13, input, 8, 4, target, 4, grads, 13, workspace, 3, &loss),
                 "l1 with a small workspace");
    expect_error(eg_huber_loss_and_gradients(layers, 2, params, 13, input, 8, 4, -1.0f, target, 4, grads, 13, workspace, 256, &loss),
                 "huber with a negative delta");
    expect_error(eg_huber_loss_and_gradients(layers, 2, NULL, 13, input, 8, 4, 1.0f, target, 4, grads, 13, workspace, 256, &loss),
                 "huber with null params");
    expect_error(eg_bce_logits_loss_and_gradients(layers, 2, params, 13, input, 7, 4, target, 4, grads, 13, workspace, 256, &loss),
                 "bce with a short input");
    expect_error(eg_bce_logits_loss_and_gradients(layers, 2, params, 13, input, 0, 0, target, 0, grads, 13, workspace, 256, &loss),
                 "bce on zero samples");
    expect_error(eg_softmax_ce_loss_and_gradients(layers, 2, params, 13, input, 8, 4, classes, 4, grads, 13, workspace, 256, &loss),
                 "softmax_ce on one output with labels 1");
    expect_error(eg_softmax_ce_loss_and_gradients(layers, 2, params, 13, input, 8, 4, NULL, 4, grads, 13, workspace, 256, &loss),
                 "softmax_ce with null labels");
    expect_error(eg_softmax_ce_smoothing_loss_and_gradients(layers, 2, params, 13, input, 8, 4, 2.0f, classes, 4, grads, 13,
                                                            workspace, 256, &loss),
                 "label smoothing of 2");
    expect_error(eg_softmax_ce_smoothing_loss_and_gradients(layers, 2, params, 13, input, 8, 4, 0.1f, classes, 3, grads, 13,
                                                            workspace, 256, &loss),
                 "label smoothing with short labels");
    if (loss != -1.0f) {
        fprintf(stderr, "FAIL: a failed call wrote the loss\n");
        failures++;
    }

    const eg_optimizer unknown = {42, 0, {0.1f, 0, 0, 0, 0, 0}};
    const eg_optimizer negative_lr = {0, 0, {-0.1f, 0, 0, 0, 0, 0}};
    const eg_optimizer adam = {3, 0, {0.01f, 0.9f, 0.999f, 1e-8f, 0, 0}};
    size_t state_len = 0;
    float state[26];
    uint64_t steps = 0;
    expect_error(eg_optimizer_state_len(NULL, 13, &state_len), "state length of a null optimizer");
    expect_error(eg_optimizer_state_len(&unknown, 13, &state_len), "state length of an unknown optimizer");
    expect_error(eg_optimizer_state_len(&negative_lr, 13, &state_len), "state length with a negative lr");
    expect_error(eg_optimizer_init(&adam, state, 25, &steps), "init of a state that is not two buffers");
    expect_error(eg_optimizer_init(&adam, state, 26, NULL), "init with null steps");
    expect_error(eg_optimizer_step(&adam, -1.0f, &steps, params, grads, 13, state, 25), "step with a short state");
    expect_error(eg_optimizer_step(&adam, -1.0f, NULL, params, grads, 13, state, 26), "step with null steps");
    expect_error(eg_optimizer_step(&adam, -1.0f, &steps, NULL, grads, 13, state, 26), "step with null params");
    expect_error(eg_optimizer_step(&unknown, -1.0f, &steps, params, grads, 13, state, 26), "step of an unknown optimizer");
    /* Each optimizer's own step refuses every other optimizer's encoding. */
    typedef eg_status (*step_fn)(const eg_optimizer *, float, uint64_t *, float *, const float *, size_t, float *, size_t);
    const step_fn own[9] = {eg_sgd_step,   eg_adagrad_step, eg_rmsprop_step,  eg_adam_step, eg_nadam_step,
                            eg_radam_step, eg_adamax_step,  eg_adadelta_step, eg_rprop_step};
    for (int k = 0; k < 9; k++) {
        const eg_optimizer other = {(uint8_t)((k + 1) % 9), 0, {0.01f, 0.9f, 0.999f, 1e-8f, 0, 0}};
        expect_error(own[k](&other, -1.0f, &steps, params, grads, 13, state, 26), "an optimizer's own step given another");
    }
    /* Each optimizer's own init refuses every other optimizer's encoding and a null step
     * count, and leaves the state as it was. */
    typedef eg_status (*init_fn)(const eg_optimizer *, float *, size_t, uint64_t *);
    const init_fn own_init[9] = {eg_sgd_init,   eg_adagrad_init, eg_rmsprop_init,  eg_adam_init, eg_nadam_init,
                                 eg_radam_init, eg_adamax_init,  eg_adadelta_init, eg_rprop_init};
    for (int i = 0; i < 26; i++) {
        state[i] = 7.0f;
    }
    for (int k = 0; k < 9; k++) {
        const eg_optimizer other = {(uint8_t)((k + 1) % 9), 0, {0.01f, 0.9f, 0.999f, 1e-8f, 0, 0}};
        const eg_optimizer own = {(uint8_t)k, 0, {0.01f, 0.9f, 0.999f, 1e-8f, 0, 0}};
        expect_error(own_init[k](&other, state, 26, &steps), "an optimizer's own init given another");
        expect_error(own_init[k](&own, state, 26, NULL), "an optimizer's own init with null steps");
        expect_error(own_init[k](NULL, state, 26, &steps), "an optimizer's own init of a null optimizer");
    }
    expect_error(eg_adam_init(&adam, state, 25, &steps), "adam's init of a state that is not two buffers");
    const eg_optimizer adam_negative_lr = {3, 0, {-0.01f, 0.9f, 0.999f, 1e-8f, 0, 0}};
    expect_error(eg_adam_init(&adam_negative_lr, state, 26, &steps), "adam's init with a negative lr");
    for (int i = 0; i < 26; i++) {
        if (state[i] != 7.0f) {
            fprintf(stderr, "FAIL: a failed init wrote the state\n");
            failures++;
            break;
        }
    }
    if (memcmp(before, params, sizeof params) != 0 || steps != 0) {
        fprintf(stderr, "FAIL: a failed call changed the params or the step count\n");
        failures++;
    }

    float lr = -1.0f;
    const float six[6] = {3, 0.5f, 0, 0, 0, 0};
    expect_error(eg_schedule_lr(99, six, 0.1f, 0, &lr), "an unknown schedule");
    expect_error(eg_schedule_lr(1, NULL, 0.1f, 0, &lr), "a schedule with null parameters");
    expect_error(eg_schedule_lr(1, six, 0.1f, 0, NULL), "a schedule with a null output");
    expect_error(eg_clip_grad_norm(NULL, 13, 1.0f, NULL), "clipping null gradients");
    expect_error(eg_clip_grad_norm(grads, 13, -1.0f, NULL), "clipping to a negative norm");
    expect_error(eg_clip_grad_value(grads, 13, 0.0f / 0.0f), "clipping to NaN");
    expect_error(eg_loss_and_gradients(layers, 2, params, 13, input, 8, 4, 2, -1.0f, target, 4, NULL, 0, grads, 13, workspace, 256, &loss),
                 "huber with a negative delta");
    const uint64_t milestones[3] = {2, 4, 4};
    expect_error(eg_multistep_lr(NULL, 3, 0.5f, 0.1f, 0, &lr), "multistep with null milestones");
    expect_error(eg_multistep_lr(milestones, 3, 0.5f, 0.1f, 0, NULL), "multistep with a null output");
    const float warmup[6] = {0.1f, 1.0f, 5, 0, 0, 0};
    const float cosine[6] = {20, 0, 0, 0, 0, 0};
    expect_error(eg_sequential_lr(99, warmup, 5, 3, cosine, 0.1f, 0, &lr), "sequential with an unknown first kind");
    expect_error(eg_sequential_lr(5, warmup, 5, 99, cosine, 0.1f, 9, &lr), "sequential with an unknown second kind");
    expect_error(eg_sequential_lr(5, NULL, 5, 3, cosine, 0.1f, 0, &lr), "sequential with null parameters");
    expect_error(eg_sequential_lr(5, warmup, 5, 3, cosine, 0.1f, 0, NULL), "sequential with a null output");
    if (lr != -1.0f) {
        fprintf(stderr, "FAIL: a failed schedule call wrote the rate\n");
        failures++;
    }

    unsigned char file[512];
    size_t written = 0;
    expect_error(eg_model_save(layers, 2, params, 13, file, 10, &written), "save into a small buffer");
    expect_error(eg_model_save(layers, 2, params, 13, NULL, 512, &written), "save into null");
    if (eg_model_save(layers, 2, params, 13, file, sizeof file, &written) != EG_OK) {
        fprintf(stderr, "FAIL: save\n");
        return 1;
    }
    float loaded[13];
    memset(loaded, 0, sizeof loaded);
    for (size_t cut = 0; cut < written; cut += 7) {
        expect_error(eg_model_load(layers, 2, file, cut, loaded, 13), "load of a truncated file");
    }
    file[40] ^= 0x5a;
    expect_error(eg_model_load(layers, 2, file, written, loaded, 13), "load of a corrupt file");
    file[40] ^= 0x5a;
    const eg_layer other[2] = {{2, 3, 4}, {3, 1, 0}};
    expect_error(eg_model_load(other, 2, file, written, loaded, 13), "load for a different network");
    for (int i = 0; i < 13; i++) {
        if (loaded[i] != 0.0f) {
            fprintf(stderr, "FAIL: a failed load wrote params\n");
            failures++;
            break;
        }
    }
    /* The schedules that take arrays, against rates worked out by hand: 0.1 halved at steps
     * 2, 4 and 4; a linear warm-up from 0.01 to 0.1 over 5 steps, then a cosine over 20. */
    const struct {
        uint64_t t;
        float expected;
    } multistep[4] = {{1, 0.1f}, {2, 0.05f}, {3, 0.05f}, {4, 0.0125f}};
    for (int i = 0; i < 4; i++) {
        float rate = -1.0f;
        if (eg_multistep_lr(milestones, 3, 0.5f, 0.1f, multistep[i].t, &rate) != EG_OK ||
            fabsf(rate - multistep[i].expected) > 1e-7f * multistep[i].expected) {
            fprintf(stderr, "FAIL: multistep at step %d: %g, not %g\n", (int)multistep[i].t, rate, multistep[i].expected);
            failures++;
        }
    }
    const struct {
        uint64_t t;
        float expected;
    } sequential[3] = {{0, 0.01f}, {5, 0.1f}, {25, 0.0f}};
    for (int i = 0; i < 3; i++) {
        float rate = -1.0f;
        if (eg_sequential_lr(5, warmup, 5, 3, cosine, 0.1f, sequential[i].t, &rate) != EG_OK ||
            fabsf(rate - sequential[i].expected) > 1e-7f) {
            fprintf(stderr, "FAIL: sequential at step %d: %g, not %g\n", (int)sequential[i].t, rate, sequential[i].expected);
            failures++;
        }
    }

    if (strcmp((const char *)eg_error_message(12345), "unknown status") != 0) {
        fprintf(stderr, "FAIL: message of an unknown status\n");
        failures++;
    }
    printf("bad-argument test: %d failures\n", failures);
    return failures == 0 ? 0 : 1;
}
