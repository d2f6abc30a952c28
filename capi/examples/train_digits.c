/* Trains a 64-32-10 ReLU network on the digits data shipped in the repository through the
 * embergrad C interface (Adam with a cosine schedule, gradients clipped, label smoothing,
 * minibatches of 16, 30 epochs) and prints the test accuracy.
 * Usage: train_digits data/digits/digits_train.csv data/digits/digits_test.csv
 * Exits 0 only if the test accuracy is at least 95%. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "embergrad.h"

#define FEATURES 64
#define CLASSES 10
#define MAX_SAMPLES 2000
#define BATCH 16

static float train_x[MAX_SAMPLES * FEATURES], test_x[MAX_SAMPLES * FEATURES];
static uint32_t train_y[MAX_SAMPLES], test_y[MAX_SAMPLES];

/* Reads a CSV with a header, 64 pixel columns (0..16, scaled to 0..1) and the label last. */
static size_t read_csv(const char *path, float *x, uint32_t *y) {
    FILE *file = fopen(path, "r");
    if (!file) {
        perror(path);
        exit(1);
    }
    char line[4096];
    size_t n = 0;
    if (!fgets(line, sizeof line, file)) {
        fprintf(stderr, "%s: empty\n", path);
        exit(1);
    }
    while (n < MAX_SAMPLES && fgets(line, sizeof line, file)) {
        char *field = strtok(line, ",");
        for (int k = 0; k < FEATURES && field; k++, field = strtok(NULL, ",")) {
            x[n * FEATURES + k] = (float)atof(field) / 16.0f;
        }
        if (!field) {
            continue;
        }
        y[n++] = (uint32_t)atoi(field);
    }
    fclose(file);
    return n;
}

static void check(eg_status status, const char *what) {
    if (status != EG_OK) {
        fprintf(stderr, "%s: %s\n", what, (const char *)eg_error_message(status));
        exit(1);
    }
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s TRAIN.csv TEST.csv\n", argv[0]);
        return 2;
    }
    size_t train_n = read_csv(argv[1], train_x, train_y);
    size_t test_n = read_csv(argv[2], test_x, test_y);
    const eg_layer layers[2] = {{FEATURES, 32, 1 /* relu */}, {32, CLASSES, 0 /* identity */}};
    eg_sizes_t sizes;
    check(eg_sizes(layers, 2, 256, &sizes), "sizes");
    float *params = calloc(sizes.params, sizeof(float));
    float *grads = calloc(sizes.params, sizeof(float));
    float *workspace = calloc(sizes.workspace, sizeof(float));
    check(eg_init(layers, 2, params, sizes.params, 1), "init");

    /* Adam: code 3, lr 0.003, betas 0.9 and 0.999, eps 1e-8, no weight decay. */
    const eg_optimizer adam = {3, 0, {0.003f, 0.9f, 0.999f, 1e-8f, 0.0f, 0.0f}};
    size_t state_len;
    check(eg_optimizer_state_len(&adam, sizes.params, &state_len), "state length");
    float *state = calloc(state_len, sizeof(float));
    uint64_t steps;
    check(eg_optimizer_init(&adam, state, state_len, &steps), "optimizer init");

    for (int epoch = 1; epoch <= 30; epoch++) {
        float total = 0.0f;
        size_t batches = 0;
        for (size_t start = 0; start + BATCH <= train_n; start += BATCH) {
            float loss;
            check(eg_loss_and_gradients(layers, 2, params, sizes.params, &train_x[start * FEATURES], BATCH * FEATURES, BATCH,
                                        5 /* softmax_ce, label smoothing: */, 0.05f, NULL, 0, &train_y[start], BATCH, grads, sizes.params, workspace,
                                        sizes.workspace, &loss),
                  "loss and gradients");
            check(eg_clip_grad_norm(grads, sizes.params, 5.0f, NULL), "clip");
            float lr;
            const float cosine[6] = {30.0f, 0.0003f, 0, 0, 0, 0}; /* t_max 30 epochs, eta_min */
            check(eg_schedule_lr(3, cosine, 0.003f, (uint64_t)(epoch - 1), &lr), "schedule");
            check(eg_optimizer_step(&adam, lr, &steps, params, grads, sizes.params, state, state_len), "step");
            total += loss;
            batches++;
        }
        if (epoch % 10 == 0) {
            printf("epoch %d: mean loss %.4f\n", epoch, total / (float)batches);
        }
    }

    size_t correct = 0;
    float outputs[256 * CLASSES];
    for (size_t start = 0; start < test_n; start += 256) {
        size_t batch = test_n - start < 256 ? test_n - start : 256;
        check(eg_forward(layers, 2, params, sizes.params, &test_x[start * FEATURES], batch * FEATURES, batch, workspace,
                         sizes.workspace, outputs, batch * CLASSES),
              "forward");
        for (size_t i = 0; i < batch; i++) {
            size_t best = 0;
            for (size_t k = 1; k < CLASSES; k++) {
                if (outputs[i * CLASSES + k] > outputs[i * CLASSES + best]) {
                    best = k;
                }
            }
            correct += best == test_y[start + i];
        }
    }
    double accuracy = 100.0 * (double)correct / (double)test_n;
    printf("test accuracy %.2f%% on %zu samples\n", accuracy, test_n);

    /* A model file round trip through caller buffers. */
    unsigned char *file = malloc(sizes.model_file);
    size_t written;
    check(eg_model_save(layers, 2, params, sizes.params, file, sizes.model_file, &written), "model save");
    float *loaded = calloc(sizes.params, sizeof(float));
    check(eg_model_load(layers, 2, file, written, loaded, sizes.params), "model load");
    int same = memcmp(loaded, params, sizes.params * sizeof(float)) == 0;
    printf("model file: %zu bytes, loads back %s\n", written, same ? "identical" : "DIFFERENT");

    free(loaded);
    free(file);
    free(state);
    free(workspace);
    free(grads);
    free(params);
    return accuracy >= 95.0 && same ? 0 : 1;
}
