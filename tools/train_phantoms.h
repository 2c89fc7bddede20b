/* swu_train_phantoms' work, in C over the C API (train_phantoms.c); its command line is
 * parsed in train_phantoms_main.cpp. */
#ifndef SWU_TRAIN_PHANTOMS_H
#define SWU_TRAIN_PHANTOMS_H

#include <stdint.h>

#include "phantom.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct swu_train_phantoms_options {
    const char* output_dir; /* required */
    const char* device;
    const char* backend;
    int threads, feature_size, heads, roi, batch_size, num_samples, val_interval, epochs;
    double learning_rate, seconds;
    uint64_t seed;
    int train_first, train_last, val_first, val_last, heldout_first, heldout_last; /* phantom seeds */
} swu_train_phantoms_options;

/* The defaults listed at the top of train_phantoms.c. */
void swu_train_phantoms_options_init(swu_train_phantoms_options* o);
/* Trains, scores the held-out phantoms, prints both; 0 when everything ran, else 1. */
int swu_train_phantoms(const swu_train_phantoms_options* o);

#ifdef __cplusplus
}
#endif

#endif
