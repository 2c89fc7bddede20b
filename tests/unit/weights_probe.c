/* Loads one weight file under an address-space limit and reports what it cost:
 *   weights_probe <weights> <limit_mb>
 * The model (backend "onednn", 1 thread, network inferred from the weights) is created
 * first; then RLIMIT_AS is set to the address space in use plus limit_mb, and
 * swu_model_load_weights runs. Prints one line:
 *   status=<swu_status> peak_mb=<VmHWM - VmRSS before the load, MiB> message=<last error>
 * test_checkpoint.cpp runs it on hostile checkpoints. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "swinunetr/swinunetr.h"

/* A "VmXxx:   123 kB" field of /proc/self/status, in kB; -1 if absent. */
static long status_kb(const char* field) {
    FILE* f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    size_t n = strlen(field);
    if (!f) return -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, field, n) == 0 && line[n] == ':') kb = strtol(line + n + 1, NULL, 10);
    fclose(f);
    return kb;
}

int main(int argc, char** argv) {
    swu_model_params p;
    swu_model* m = NULL;
    struct rlimit limit;
    long rss_before;
    swu_status st;
    if (argc != 3) {
        fprintf(stderr, "usage: weights_probe <weights> <limit_mb>\n");
        return 2;
    }
    swu_model_params_init(&p);
    p.backend = "onednn";
    p.threads = 1;
    if (swu_model_create(&p, &m) != SWU_OK) {
        printf("status=-1 peak_mb=0 message=create: %s\n", swu_last_error());
        return 1;
    }
    rss_before = status_kb("VmRSS");
    limit.rlim_cur = limit.rlim_max = (rlim_t)status_kb("VmSize") * 1024 + (rlim_t)atol(argv[2]) * 1024 * 1024;
    if (setrlimit(RLIMIT_AS, &limit) != 0) {
        perror("setrlimit");
        return 1;
    }
    st = swu_model_load_weights(m, argv[1]);
    printf("status=%d peak_mb=%.1f message=%s\n", (int)st, (status_kb("VmHWM") - rss_before) / 1024.0,
           st == SWU_OK ? "" : swu_last_error());
    swu_model_free(m);
    return 0;
}
