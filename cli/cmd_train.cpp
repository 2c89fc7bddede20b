// `swinunetr train` and `swinunetr evaluate`: the bundle's training recipe and Dice
// scoring over a MONAI datalist. Ctrl-C stops training cleanly: the best model.pt and
// the last resume checkpoint stay as they were written.
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <thread>

#include "commands.hpp"
#include "interrupt.hpp"
#include "io/json.hpp"
#include "swinunetr/swinunetr.hpp"

namespace swu_cli {
namespace {

const char* kTrainUsage =
    "usage: swinunetr train --datalist D.json --output-dir DIR [--weights INIT.pt] [--resume]\n"
    "         [--epochs N | --max-iterations N] [--val-interval N] [--batch-size N] [--num-samples N]\n"
    "         [--roi N] [--lr F] [--seed N] [--threads N] [--device cpu|cuda:N] [--feature-size N]\n"
    "         [--num-heads A,B,C,D] [--amp on|off] [--checkpointing on|off] [--cache-mb N] [--nproc N] [--dist-timeout S]\n"
    "  D.json: MONAI datalist {\"training\": [{\"image\": .., \"label\": ..}], \"validation\": [..]}\n"
    "  DIR:    gets model.pt (best validation Dice, MONAI format), resume.pt/.json, metrics.jsonl\n"
    "  Defaults are the bundle's train.json: 500 epochs, batch 2 x 2 crops of 96^3, Adam 2e-4,\n"
    "  validation every 5 epochs, seed 123. Without --weights or --resume the network starts\n"
    "  from fresh weights (feature size 48 unless --feature-size; attention heads per stage\n"
    "  3,6,12,24 unless --num-heads, MONAI's num_heads).\n"
    "  Distributed (data parallel, torch backend): with WORLD_SIZE, RANK, MASTER_ADDR, MASTER_PORT\n"
    "  in the environment (torchrun's variables) this process is one rank; --nproc N starts N local\n"
    "  ranks itself. --batch-size is per rank; --device cuda means cuda:LOCAL_RANK; rank 0 prints\n"
    "  and writes DIR. --dist-timeout: seconds to wait for the other ranks (default 1800).\n";

const char* kEvaluateUsage =
    "usage: swinunetr evaluate --weights W.pt --datalist D.json [--report R.json] [--section training|validation]\n"
    "         [--threads N] [--backend auto|torch|onednn] [--device cpu|cuda:N] [--roi N] [--overlap F] [--sw-batch N]\n"
    "  Segments every case (the \"validation\" list, else \"training\") and prints Dice per organ.\n";

// --name value options and --flag switches; numbers checked by the callers.
struct Options {
    std::map<std::string, std::string> values;
    bool parse(const Args& args, const char* command, const char* usage, const std::vector<std::string>& names,
               const std::vector<std::string>& flags) {
        for (size_t i = 0; i < args.size(); ++i) {
            const std::string& a = args[i];
            if (a == "--help" || a == "-h") {
                std::printf("%s", usage);
                std::exit(0);
            }
            bool known = false;
            for (const std::string& f : flags)
                if (a == f) values[a] = "1", known = true;
            if (known) continue;
            for (const std::string& n : names)
                if (a == n) known = true;
            if (!known) {
                std::fprintf(stderr, "swinunetr %s: unknown option '%s'\n%s", command, a.c_str(), usage);
                return false;
            }
            if (i + 1 >= args.size()) {
                std::fprintf(stderr, "swinunetr %s: '%s' needs a value\n%s", command, a.c_str(), usage);
                return false;
            }
            values[a] = args[++i];
        }
        return true;
    }
    bool has(const std::string& n) const { return values.count(n) != 0; }
    std::string text(const std::string& n, const std::string& fallback = "") const {
        const auto it = values.find(n);
        return it == values.end() ? fallback : it->second;
    }
    // Parses a number into `out` when present; false (and a message) when malformed.
    template <class T> bool number(const std::string& n, T& out, const char* command) const {
        const auto it = values.find(n);
        if (it == values.end()) return true;
        char* end = nullptr;
        const double v = std::strtod(it->second.c_str(), &end);
        if (it->second.empty() || *end || !std::isfinite(v)) {
            std::fprintf(stderr, "swinunetr %s: %s needs a number, got '%s'\n", command, n.c_str(), it->second.c_str());
            return false;
        }
        out = static_cast<T>(v);
        return true;
    }
};

bool on_off(const Options& o, const std::string& name, int32_t& out, const char* command) {
    if (!o.has(name)) return true;
    const std::string v = o.text(name);
    if (v == "on") out = 1;
    else if (v == "off") out = 0;
    else {
        std::fprintf(stderr, "swinunetr %s: %s must be on or off\n", command, name.c_str());
        return false;
    }
    return true;
}

struct TrainProgress {
    bool tty = false;
    double best = -1;
};

int on_train_event(const swu_train_event* e, void* user) {
    auto* p = static_cast<TrainProgress*>(user);
    if (e->rank != 0) return interrupted() ? 1 : 0;  // rank 0 speaks for a distributed run
    switch (e->kind) {
    case SWU_TRAIN_EVENT_PREPARING:
        std::fprintf(stderr, "%spreparing case %lld/%lld%s", p->tty ? "\r" : "", static_cast<long long>(e->iteration),
                     static_cast<long long>(e->total_iterations),
                     p->tty && e->iteration < e->total_iterations ? "" : "\n");
        break;
    case SWU_TRAIN_EVENT_ITERATION: {
        const double per = e->elapsed_seconds / static_cast<double>(std::max<int64_t>(1, e->iteration));
        const double eta = per * static_cast<double>(e->total_iterations - e->iteration);
        std::fprintf(stderr, "epoch %lld  iteration %lld/%lld  loss %.4f (dice %.4f, ce %.4f)  %.1f s/it  ETA %.0f min\n",
                     static_cast<long long>(e->epoch), static_cast<long long>(e->iteration),
                     static_cast<long long>(e->total_iterations), e->loss, e->dice_loss, e->ce_loss, per, eta / 60.0);
        break;
    }
    case SWU_TRAIN_EVENT_VALIDATION:
        std::fprintf(stderr, "epoch %lld  validation mean Dice %.4f  (best %.4f at epoch %lld)\n",
                     static_cast<long long>(e->epoch), e->mean_dice, e->best_mean_dice, static_cast<long long>(e->best_epoch));
        for (int32_t c = 0; c < e->organ_count; ++c)
            if (!std::isnan(e->organ_dice[c])) std::fprintf(stderr, "    %-26s %.4f\n", swu_label_name(c + 1), e->organ_dice[c]);
        break;
    case SWU_TRAIN_EVENT_CHECKPOINT:
        std::fprintf(stderr, "saved %s\n", e->path);
        break;
    default: break;
    }
    return interrupted() ? 1 : 0;
}

// torchrun's variable, or -1 when unset.
int env_int(const char* name) {
    const char* v = std::getenv(name);
    return v && *v ? std::atoi(v) : -1;
}

// `distributed`: one rank of several; "--device cuda" then means cuda:LOCAL_RANK, and the
// default thread count is this machine's cores shared among its ranks.
int model_for(const Options& o, const char* command, swinunetr::ModelPtr& out, bool distributed = false) {
    swu_model_params mp;
    swu_model_params_init(&mp);
    std::string backend = o.text("--backend", "auto"), device = o.text("--device", "cpu");
    if (distributed && device == "cuda") device = "cuda:" + std::to_string(std::max(0, env_int("LOCAL_RANK")));
    if (distributed && !o.has("--threads")) {
        const int local = std::max(1, env_int("LOCAL_WORLD_SIZE"));
        mp.threads = static_cast<int32_t>(std::max(1u, std::thread::hardware_concurrency() / static_cast<unsigned>(local)));
    }
    mp.backend = backend.c_str();
    mp.device = device.c_str();
    if (!o.number("--threads", mp.threads, command) || !o.number("--feature-size", mp.feature_size, command)) return 2;
    if (o.has("--num-heads")) {
        const std::string v = o.text("--num-heads");
        int h[4] = {0, 0, 0, 0};
        char end = 0;
        if (std::sscanf(v.c_str(), "%d,%d,%d,%d%c", &h[0], &h[1], &h[2], &h[3], &end) != 4) {
            std::fprintf(stderr, "swinunetr %s: --num-heads needs four numbers such as 3,6,12,24, got '%s'\n", command,
                         v.c_str());
            return 2;
        }
        for (int i = 0; i < 4; ++i) mp.num_heads[i] = h[i];  // checked by swu_model_create
    }
    swu_model* m = nullptr;
    const swu_status st = swu_model_create(&mp, &m);
    if (st != SWU_OK) return report_failure("creating the model", st);
    out.reset(m);
    return 0;
}

}  // namespace

int cmd_train(const Args& args) {
    Options o;
    if (!o.parse(args, "train", kTrainUsage,
                 {"--datalist", "--output-dir", "--weights", "--epochs", "--max-iterations", "--val-interval",
                  "--batch-size", "--num-samples", "--roi", "--lr", "--seed", "--threads", "--device", "--backend",
                  "--feature-size", "--num-heads", "--amp", "--checkpointing", "--cache-mb", "--nproc", "--dist-timeout"},
                 {"--resume"}))
        return 2;
    if (o.has("--nproc")) {
        int nproc = 0;
        if (!o.number("--nproc", nproc, "train")) return 2;
        if (nproc < 1 || nproc > 256) {
            std::fprintf(stderr, "swinunetr train: --nproc must be 1..256\n");
            return 2;
        }
        if (std::getenv("WORLD_SIZE")) {
            std::fprintf(stderr, "swinunetr train: --nproc starts the ranks itself; WORLD_SIZE is already set (a "
                                 "launcher started this process)\n");
            return 2;
        }
        Args rest;
        for (size_t i = 0; i < args.size(); ++i) {
            if (args[i] == "--nproc") ++i;
            else rest.push_back(args[i]);
        }
        return launch_local(nproc, "train", rest);
    }
    // Started by torchrun, `--nproc` or a scheduler's wrapper: one rank of a distributed run.
    const bool distributed = std::getenv("WORLD_SIZE") != nullptr;
    if (!o.has("--datalist") || !o.has("--output-dir")) {
        std::fprintf(stderr, "swinunetr train: --datalist and --output-dir are required\n%s", kTrainUsage);
        return 2;
    }
    if (o.has("--epochs") && o.has("--max-iterations")) {
        std::fprintf(stderr, "swinunetr train: give --epochs or --max-iterations, not both\n");
        return 2;
    }
    swu_train_params tp;
    swu_train_params_init(&tp);
    const std::string datalist = o.text("--datalist"), output = o.text("--output-dir"), weights = o.text("--weights");
    tp.datalist = datalist.c_str();
    tp.output_dir = output.c_str();
    if (!weights.empty()) tp.initial_weights = weights.c_str();
    tp.resume = o.has("--resume") ? 1 : 0;
    double cache_mb = -1;
    if (!o.number("--epochs", tp.max_epochs, "train") || !o.number("--max-iterations", tp.max_iterations, "train") ||
        !o.number("--val-interval", tp.val_interval, "train") || !o.number("--batch-size", tp.batch_size, "train") ||
        !o.number("--num-samples", tp.num_samples, "train") || !o.number("--roi", tp.roi, "train") ||
        !o.number("--lr", tp.learning_rate, "train") || !o.number("--seed", tp.seed, "train") ||
        !o.number("--cache-mb", cache_mb, "train") || !o.number("--dist-timeout", tp.distributed_timeout, "train") ||
        !on_off(o, "--amp", tp.amp, "train") ||
        !on_off(o, "--checkpointing", tp.checkpointing, "train"))
        return 2;
    if (o.has("--max-iterations")) tp.max_epochs = 1 << 30;  // the iteration count decides
    if (cache_mb >= 0) tp.cache_bytes = static_cast<int64_t>(cache_mb * 1048576.0);
    tp.distributed = distributed ? SWU_DISTRIBUTED_ENV : SWU_DISTRIBUTED_OFF;
    catch_interrupts();
    swinunetr::ModelPtr model;
    if (const int rc = model_for(o, "train", model, distributed)) return rc;
    const bool speaker = !distributed || env_int("RANK") == 0;

    TrainProgress progress;
    progress.tty = isatty(STDERR_FILENO) != 0;
    tp.callback = on_train_event;
    tp.callback_user_data = &progress;
    swu_train_result r{};
    r.struct_size = sizeof r;
    const swu_status st = stop_at("train") ? SWU_ERR_CANCELLED : swu_train(model.get(), &tp, &r);
    if (st == SWU_ERR_CANCELLED) {
        if (speaker)
            std::fprintf(stderr, "swinunetr train: interrupted; %s/model.pt and the last resume checkpoint are intact "
                                 "(continue with --resume)\n", output.c_str());
        return 130;
    }
    if (st != SWU_OK)
        return report_failure(distributed ? "training (rank " + std::to_string(env_int("RANK")) + ")" : "training", st);
    if (!speaker) return 0;
    std::fprintf(stderr, "swinunetr train: %lld iterations, %lld epochs, last loss %.4f, best validation mean Dice %.4f "
                         "(epoch %lld); weights in %s/model.pt\n",
                 static_cast<long long>(r.iterations), static_cast<long long>(r.epochs), r.last_loss, r.best_mean_dice,
                 static_cast<long long>(r.best_epoch), output.c_str());
    return 0;
}

int cmd_evaluate(const Args& args) {
    Options o;
    if (!o.parse(args, "evaluate", kEvaluateUsage,
                 {"--weights", "--datalist", "--report", "--section", "--threads", "--backend", "--device", "--overlap",
                  "--sw-batch", "--roi"},
                 {}))
        return 2;
    if (!o.has("--weights") || !o.has("--datalist")) {
        std::fprintf(stderr, "swinunetr evaluate: --weights and --datalist are required\n%s", kEvaluateUsage);
        return 2;
    }
    swu_infer_params ip;
    swu_infer_params_init(&ip);
    if (!o.number("--overlap", ip.overlap, "evaluate") || !o.number("--sw-batch", ip.sw_batch, "evaluate") ||
        !o.number("--roi", ip.roi, "evaluate"))
        return 2;
    swinunetr::ModelPtr model;
    if (const int rc = model_for(o, "evaluate", model)) return rc;
    swu_status st = swu_model_load_weights(model.get(), o.text("--weights").c_str());
    if (st != SWU_OK) return report_failure("loading weights", st);
    // The report is always written (when not asked for, into a fresh private folder,
    // never a predictable name under /tmp): the per-organ figures printed below come from it.
    const std::string asked = o.text("--report", "");
    std::string scratch;
    if (asked.empty()) {
        const char* tmp = std::getenv("TMPDIR");
        std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/swinunetr-evaluate-XXXXXX";
        if (!mkdtemp(tmpl.data())) {
            std::perror("swinunetr evaluate: cannot create a temporary folder");
            return 1;
        }
        scratch = tmpl;
    }
    const std::string report = asked.empty() ? scratch + "/report.json" : asked;
    const std::string section = o.text("--section", "");
    double mean = 0;
    st = swu_evaluate(model.get(), o.text("--datalist").c_str(), section.empty() ? nullptr : section.c_str(), &ip,
                      report.c_str(), &mean);
    if (st != SWU_OK) {
        if (!scratch.empty()) rmdir(scratch.c_str());
        return report_failure("evaluation", st);
    }
    try {
        const swu::json::Value r = swu::json::parse_file(report);
        std::printf("%zu cases\n", r.at("cases").size());
        for (const auto& [organ, dice] : r.at("organ_mean_dice").as_object())
            if (!dice.is_null()) std::printf("  %-26s %.4f\n", organ.c_str(), dice.as_number());
    } catch (const std::exception& e) {
        std::fprintf(stderr, "swinunetr evaluate: cannot read the report back: %s\n", e.what());
    }
    if (asked.empty()) {
        std::remove(report.c_str());
        rmdir(scratch.c_str());
    }
    std::printf("mean Dice %.4f%s%s\n", mean, asked.empty() ? "" : "; per case and organ in ", asked.c_str());
    return 0;
}

}  // namespace swu_cli
