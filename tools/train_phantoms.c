/* swu_train_phantoms (train_phantoms_main.cpp parses its command line):
 * Trains a network from scratch on synthetic phantoms held in memory (phantom.h) with
 * swu_train, then scores the best weights on phantoms it has not seen: Dice per organ
 * against the phantom's labels, in its own geometry. Needs no image files, so it runs
 * where the library is built without ITK (a GPU machine with only pip's torch);
 * scripts/train-demo-model.sh does the same through `swinunetr train` on files.
 *
 * Options (defaults in brackets):
 *   --device D [cpu]  --threads N [0: all cores]  --backend B [auto]
 *   --feature-size F [12]  --heads H [3: 3,6,12,24 per stage; H doubles per stage]  --roi R [96]  --batch-size B [2]  --num-samples S [2]
 *   --lr F [1e-3]  --val-interval N [20]  --epochs N [100000]  --seconds S [600]
 *   --seed N [1]  --train A-B [1-12]  --val A-B [13-14]  --heldout A-B [15-20]
 * Phantom seeds are given as ranges. Training stops after --epochs or after --seconds
 * from its first step (a clean cancel: DIR/model.pt holds the best validated weights). Prints the held-out
 * Dice of DIR/model.pt at the training roi; exit status 0 when everything ran. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "train_phantoms.h"

typedef struct {
    int first, last;
} range;

typedef struct {
    int16_t* ct;
    uint8_t* labels;
    swu_volume* image;
    swu_volume* label_volume;
} phantom;

static double seconds_limit = 600, first_step_at = -1;

static int make_phantoms(range r, phantom** out) {
    const int n = r.last - r.first + 1;
    int i;
    *out = calloc((size_t)n, sizeof(phantom));
    for (i = 0; *out && i < n; ++i) {
        phantom* p = &(*out)[i];
        p->ct = malloc(SWU_PHANTOM_VOXELS * sizeof(int16_t));
        p->labels = malloc(SWU_PHANTOM_VOXELS);
        if (!p->ct || !p->labels) return 0;
        swu_phantom_generate((uint64_t)(r.first + i), p->ct, p->labels);
        p->image = swu_phantom_wrap(SWU_VOXEL_INT16, p->ct);
        p->label_volume = swu_phantom_wrap(SWU_VOXEL_UINT8, p->labels);
        if (!p->image || !p->label_volume) return 0;
    }
    return *out != NULL;
}

static void free_phantoms(phantom* p, int n) {
    int i;
    for (i = 0; p && i < n; ++i) {
        swu_volume_free(p[i].image);
        swu_volume_free(p[i].label_volume);
        free(p[i].ct);
        free(p[i].labels);
    }
    free(p);
}

static int on_event(const swu_train_event* e, void* user) {
    (void)user;
    if (e->kind == SWU_TRAIN_EVENT_PREPARING && e->iteration == e->total_iterations)
        printf("preprocessed %lld cases in %.1f s\n", (long long)e->total_iterations, e->elapsed_seconds);
    if (e->kind == SWU_TRAIN_EVENT_ITERATION && first_step_at < 0) first_step_at = e->elapsed_seconds;
    if (e->kind == SWU_TRAIN_EVENT_ITERATION && e->iteration % 50 == 0)
        printf("iteration %lld (epoch %lld): loss %.4f, %.0f s\n", (long long)e->iteration, (long long)e->epoch, e->loss,
               e->elapsed_seconds);
    else if (e->kind == SWU_TRAIN_EVENT_VALIDATION)
        printf("validation after epoch %lld (iteration %lld): mean Dice %.4f, best %.4f (epoch %lld), %.0f s\n",
               (long long)e->epoch, (long long)e->iteration, e->mean_dice, e->best_mean_dice, (long long)e->best_epoch,
               e->elapsed_seconds);
    fflush(stdout);
    return first_step_at >= 0 && e->elapsed_seconds - first_step_at > seconds_limit;
}

/* Held-out Dice of the model's weights: per organ over the cases where the organ is in
 * the ground truth, and the mean over all such (case, organ) pairs. */
static int score(swu_model* model, const phantom* cases, int n, int roi, double* mean_dice) {
    double organ_sum[14] = {0}, total = 0;
    int organ_n[14] = {0}, pairs = 0, c, i;
    swu_infer_params p;
    swu_infer_params_init(&p);
    p.roi = roi;
    for (i = 0; i < n; ++i) {
        swu_volume* labels = NULL;
        swu_volume_info info;
        int64_t inter[14] = {0}, pred[14] = {0}, truth[14] = {0}, v;
        double case_sum = 0;
        int case_n = 0;
        const uint8_t* l;
        if (swu_infer(model, cases[i].image, &p, &labels) != SWU_OK) return 0;
        memset(&info, 0, sizeof info);
        info.struct_size = sizeof info;
        if (swu_volume_get_info(labels, &info) != SWU_OK || info.type != SWU_VOXEL_UINT8 ||
            info.strides[0] != 1 || info.strides[1] != SWU_PHANTOM_NI) {
            swu_volume_free(labels);
            return 0;
        }
        l = (const uint8_t*)info.data;
        for (v = 0; v < (int64_t)SWU_PHANTOM_VOXELS; ++v) {
            const int a = l[v] < 14 ? l[v] : 0, b = cases[i].labels[v];
            ++pred[a];
            ++truth[b];
            if (a == b) ++inter[a];
        }
        swu_volume_free(labels);
        for (c = 1; c < 14; ++c) {
            double d;
            if (!truth[c]) continue; /* absent from the ground truth: left out */
            d = 2.0 * (double)inter[c] / (double)(pred[c] + truth[c]);
            organ_sum[c] += d, ++organ_n[c];
            case_sum += d, ++case_n;
            total += d, ++pairs;
        }
        printf("held-out case %d: mean Dice %.4f over %d organs\n", i, case_n ? case_sum / case_n : NAN, case_n);
    }
    for (c = 1; c < 14; ++c)
        if (organ_n[c]) printf("  %-26s %.4f\n", swu_label_name(c), organ_sum[c] / organ_n[c]);
    *mean_dice = pairs ? total / pairs : NAN;
    return 1;
}

void swu_train_phantoms_options_init(swu_train_phantoms_options* o) {
    memset(o, 0, sizeof *o);
    o->device = "cpu";
    o->backend = "auto";
    o->feature_size = 12;
    o->heads = 3;
    o->roi = 96;
    o->batch_size = 2;
    o->num_samples = 2;
    o->learning_rate = 1e-3;
    o->val_interval = 20;
    o->epochs = 100000;
    o->seconds = 600;
    o->seed = 1;
    o->train_first = 1, o->train_last = 12;
    o->val_first = 13, o->val_last = 14;
    o->heldout_first = 15, o->heldout_last = 20;
}

int swu_train_phantoms(const swu_train_phantoms_options* o) {
    const char *device = o->device, *backend = o->backend, *output_dir = o->output_dir;
    const int threads = o->threads, feature_size = o->feature_size, heads = o->heads;
    const range train = {o->train_first, o->train_last}, val = {o->val_first, o->val_last},
                heldout = {o->heldout_first, o->heldout_last};
    swu_model_params mp;
    swu_train_params tp;
    swu_train_result result;
    swu_model* model = NULL;
    phantom *train_cases = NULL, *val_cases = NULL, *heldout_cases = NULL;
    const swu_volume **train_images = NULL, **train_labels = NULL, **val_images = NULL, **val_labels = NULL;
    char path[4096];
    double mean_dice = NAN;
    swu_status st = SWU_OK;
    int ok = 0, i;

    swu_train_params_init(&tp);
    tp.roi = o->roi;
    tp.batch_size = o->batch_size;
    tp.num_samples = o->num_samples;
    tp.learning_rate = o->learning_rate;
    tp.val_interval = o->val_interval;
    tp.max_epochs = o->epochs;
    tp.seed = o->seed;
    tp.checkpointing = 0;
    seconds_limit = o->seconds;
    first_step_at = -1;

    swu_model_params_init(&mp);
    mp.device = device;
    mp.backend = backend;
    mp.threads = threads;
    mp.feature_size = feature_size;
    for (i = 0; i < 4; ++i) mp.num_heads[i] = heads << i;
    if ((st = swu_model_create(&mp, &model)) != SWU_OK) goto done;
    if (!make_phantoms(train, &train_cases) || !make_phantoms(val, &val_cases) || !make_phantoms(heldout, &heldout_cases)) {
        fprintf(stderr, "swu_train_phantoms: making phantoms failed: %s\n", swu_last_error());
        goto done;
    }
    tp.train_count = (size_t)(train.last - train.first + 1);
    tp.val_count = (size_t)(val.last - val.first + 1);
    train_images = calloc(tp.train_count, sizeof *train_images);
    train_labels = calloc(tp.train_count, sizeof *train_labels);
    val_images = calloc(tp.val_count, sizeof *val_images);
    val_labels = calloc(tp.val_count, sizeof *val_labels);
    if (!train_images || !train_labels || !val_images || !val_labels) goto done;
    for (i = 0; i < (int)tp.train_count; ++i) train_images[i] = train_cases[i].image, train_labels[i] = train_cases[i].label_volume;
    for (i = 0; i < (int)tp.val_count; ++i) val_images[i] = val_cases[i].image, val_labels[i] = val_cases[i].label_volume;
    tp.train_images = train_images;
    tp.train_labels = train_labels;
    tp.val_images = val_images;
    tp.val_labels = val_labels;
    tp.output_dir = output_dir;
    tp.callback = on_event;
    printf("training feature size %d on %s: phantoms %d-%d (validation %d-%d), roi %d, batch %d x %d crops, lr %g, "
           "at most %.0f s\n", feature_size, device, train.first, train.last, val.first, val.last, tp.roi, tp.batch_size,
           tp.num_samples, tp.learning_rate, seconds_limit);
    fflush(stdout);
    memset(&result, 0, sizeof result);
    result.struct_size = sizeof result;
    st = swu_train(model, &tp, &result);
    if (st != SWU_OK && st != SWU_ERR_CANCELLED) goto done;
    printf("trained: %lld epochs, %lld iterations, last loss %.4f, best validation mean Dice %.4f (epoch %lld)%s\n",
           (long long)result.epochs, (long long)result.iterations, result.last_loss, result.best_mean_dice,
           (long long)result.best_epoch, st == SWU_ERR_CANCELLED ? ", stopped at the time limit" : "");
    snprintf(path, sizeof path, "%s/model.pt", output_dir);
    if ((st = swu_model_load_weights(model, path)) != SWU_OK) goto done;
    printf("held-out phantoms %d-%d, roi %d, with %s:\n", heldout.first, heldout.last, tp.roi, path);
    if (!score(model, heldout_cases, heldout.last - heldout.first + 1, tp.roi, &mean_dice)) goto done;
    printf("held-out mean Dice %.4f\n", mean_dice);
    ok = 1;
done:
    if (!ok) fprintf(stderr, "swu_train_phantoms: failed (%s): %s\n", swu_status_string(st), swu_last_error());
    free(train_images);
    free(train_labels);
    free(val_images);
    free(val_labels);
    free_phantoms(train_cases, train.last - train.first + 1);
    free_phantoms(val_cases, val.last - val.first + 1);
    free_phantoms(heldout_cases, heldout.last - heldout.first + 1);
    swu_model_free(model);
    return ok ? 0 : 1;
}
