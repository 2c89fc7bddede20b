// swu_train_phantoms --output-dir DIR [options]: the command line of train_phantoms.c.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>

#include "train_phantoms.h"

namespace {

// "A-B": first and last phantom seed.
CLI::Option* add_range(CLI::App& app, const char* name, const char* what, int& first, int& last) {
    const std::string fallback = std::to_string(first) + "-" + std::to_string(last);
    return app
        .add_option_function<std::string>(
            name,
            [&first, &last, name](const std::string& v) {
                int a = -1, b = -1;
                char end = 0;
                if (std::sscanf(v.c_str(), "%d-%d%c", &a, &b, &end) != 2 || a < 0 || b < a)
                    throw CLI::ValidationError(name, "a range of phantom seeds A-B, got '" + v + "'");
                first = a;
                last = b;
            },
            what)
        ->default_str(fallback);
}

}  // namespace

int main(int argc, char** argv) {
    swu_train_phantoms_options o;
    swu_train_phantoms_options_init(&o);
    std::string output_dir, device = o.device, backend = o.backend;
    CLI::App app("Trains a network from scratch on synthetic phantoms held in memory, then scores it on phantoms it "
                 "has not seen (Dice per organ)",
                 "swu_train_phantoms");
    app.add_option("--output-dir", output_dir, "gets model.pt (best validated weights) and the run files")->required();
    app.add_option("--device", device, "cpu or cuda:N")->capture_default_str();
    app.add_option("--backend", backend, "backend plugin")->capture_default_str();
    app.add_option("--threads", o.threads, "CPU threads; 0: all cores")->capture_default_str();
    app.add_option("--feature-size", o.feature_size, "network width")->capture_default_str();
    app.add_option("--heads", o.heads, "attention heads of the first stage, doubling per stage")->capture_default_str();
    app.add_option("--roi", o.roi, "crop size per axis")->capture_default_str();
    app.add_option("--batch-size", o.batch_size, "volumes per step")->capture_default_str();
    app.add_option("--num-samples", o.num_samples, "crops per volume")->capture_default_str();
    app.add_option("--lr", o.learning_rate, "Adam learning rate")->capture_default_str();
    app.add_option("--val-interval", o.val_interval, "epochs between validations")->capture_default_str();
    app.add_option("--epochs", o.epochs, "at most this many epochs")->capture_default_str();
    app.add_option("--seconds", o.seconds, "stop this long after the first step (a clean cancel)")->capture_default_str();
    app.add_option("--seed", o.seed, "training seed")->capture_default_str();
    add_range(app, "--train", "training phantoms", o.train_first, o.train_last);
    add_range(app, "--val", "validation phantoms", o.val_first, o.val_last);
    add_range(app, "--heldout", "held-out phantoms, scored at the end", o.heldout_first, o.heldout_last);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? 0 : 2;  // help: 0; a bad command line: 2, as swinunetr
    }
    o.output_dir = output_dir.c_str();
    o.device = device.c_str();
    o.backend = backend.c_str();
    return swu_train_phantoms(&o);
}
