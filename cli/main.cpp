// swinunetr — the reference command-line tool over the C API.
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "commands.hpp"

namespace swu_cli {

int report_failure(const std::string& what, swu_status status) {
    std::fprintf(stderr, "swinunetr: %s failed (%s): %s\n", what.c_str(), swu_status_string(status), swu_last_error());
    return 1;
}

}  // namespace swu_cli

namespace {

void usage(FILE* out) {
    std::fprintf(out,
                 "usage: swinunetr <command> [options]\n"
                 "\n"
                 "commands:\n"
                 "  info       version, ABI and every backend plugin found (or why it failed)\n"
                 "  segment    segment a CT (file or DICOM folder) into 13 organs:\n"
                 "             segment INPUT OUTPUT --weights W.pt [--threads N] [--overlap F]\n"
                 "                     [--sw-batch N] [--blend constant|gaussian] [--backend ...]\n"
                 "                     [--series UID] [--format image|dicom-seg]  (OUTPUT.dcm: DICOM SEG)\n"
                 "  train      train on a MONAI datalist (the bundle's recipe):\n"
                 "             train --datalist D.json --output-dir DIR [--weights INIT.pt]\n"
                 "                   [--epochs N | --max-iterations N] [--resume] ...\n"
                 "  evaluate   Dice per organ of a model on a datalist:\n"
                 "             evaluate --weights W.pt --datalist D.json [--report R.json]\n"
                 "  forward    raw network forward pass on an .npy batch:\n"
                 "             forward --weights W.pt --input X.npy --output Y.npy\n"
                 "                     [--backend auto|torch|onednn] [--device cpu|cuda:N]\n"
                 "                     [--precision fp32|bf16|fp16] [--threads N]\n"
                 "                     [--merging legacy|monai15|v2] [--backend-dir DIR]\n"
                 "  bench      forward time, GFLOP/s and peak RSS per backend and precision, or\n"
                 "             a whole CT's time per stage: bench [--precisions fp32,bf16] [--volume CT]\n"
                 "  compare    compare two .npy arrays with |a-b| <= atol + rtol*|b|:\n"
                 "             compare ACTUAL.npy REFERENCE.npy [--atol 1e-4] [--rtol 1e-4]\n"
                 "\n"
                 "Backends are searched in SWU_BACKEND_PATH, the install folder and next to\n"
                 "libswinunetr.so. `swinunetr <command> --help` describes a command.\n");
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const std::string command = argv[1];
#if defined(__GLIBC__)
    // glibc's heap policy, unless the user chose one (MALLOC_*_ variables).
    if (!std::getenv("MALLOC_MMAP_THRESHOLD_")) {
        if (command == "train") {
            // Training repeats the same allocations every step: keep freed memory in the
            // heap (blocks up to glibc's 32 MB ceiling, no trimming) instead of mapping,
            // faulting in and zeroing fresh pages each time. A step of the f12 network on
            // 64^3 crops took 6.5 s on 2 cores with the 4 MB threshold below and 3.5 s so.
            mallopt(M_MMAP_THRESHOLD, 32 << 20);
            mallopt(M_TRIM_THRESHOLD, INT_MAX);
            mallopt(M_TOP_PAD, 1 << 30);
        } else {
            // A fixed mmap threshold: blocks of 4 MB and more (activations, window buffers)
            // go back to the system when freed. glibc otherwise raises the threshold after
            // each large free and keeps later ones in its heap, which adds several hundred
            // MB to the peak of a whole-volume segmentation (README, "Memory").
            mallopt(M_MMAP_THRESHOLD, 4 << 20);
        }
    }
#endif
    const swu_cli::Args args(argv + 2, argv + argc);
    if (command == "-h" || command == "--help" || command == "help") {
        usage(stdout);
        return 0;
    }
    if (command == "--version" || command == "version") {
        std::printf("swinunetr %s\n", swu_version_string());
        return 0;
    }
    if (command == "info") return swu_cli::cmd_info(args);
    if (command == "forward") return swu_cli::cmd_forward(args);
    if (command == "compare") return swu_cli::cmd_compare(args);
    if (command == "segment") return swu_cli::cmd_segment(args);
    if (command == "train") return swu_cli::cmd_train(args);
    if (command == "evaluate") return swu_cli::cmd_evaluate(args);
    if (command == "bench") return swu_cli::cmd_bench(args);
    std::fprintf(stderr, "swinunetr: unknown command '%s'\n\n", command.c_str());
    usage(stderr);
    return 2;
}
