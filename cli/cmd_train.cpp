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

const char* kTrainFooter =
    "D.json: MONAI datalist {\"training\": [{\"image\": .., \"label\": ..}], \"validation\": [..]}\n"
    "DIR:    gets model.pt (best validation Dice, MONAI format), resume.pt/.json, metrics.jsonl\n"
    "Defaults are the bundle's train.json: 500 epochs, batch 2 x 2 crops of 96^3, Adam 2e-4,\n"
    "validation every 5 epochs, seed 123. Without --weights or --resume the network starts\n"
    "from fresh weights (feature size 48 unless --feature-size; attention heads per stage\n"
    "3,6,12,24 unless --num-heads, MONAI's num_heads).\n"
    "Distributed (data parallel, torch backend): with WORLD_SIZE, RANK, MASTER_ADDR, MASTER_PORT\n"
    "in the environment (torchrun's variables) this process is one rank; --nproc N starts N local\n"
    "ranks itself. --batch-size is per rank; --device cuda means cuda:LOCAL_RANK; rank 0 prints\n"
    "and writes DIR.";

// What train and evaluate share: the model's options (--precision is not offered: both
// run the backends' fp32 path), and the network's shape for fresh weights.
struct ModelSpec {
    ModelOptions model;
    int feature_size = 0;
    std::string num_heads;
};

struct TrainOptions {
    ModelSpec spec;
    swu_train_params tp{};
    std::string datalist, output, weights, amp, checkpointing;
    bool resume = false;
    double cache_mb = -1;
    int nproc = 0;
    CLI::Option* max_iterations = nullptr;
};

struct EvaluateOptions {
    ModelSpec spec;
    swu_infer_params ip{};
    std::string weights, datalist, report, section;
};

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
int model_for(const ModelSpec& o, const char* command, swinunetr::ModelPtr& out, bool distributed = false) {
    swu_model_params mp;
    swu_model_params_init(&mp);
    o.model.apply(mp);
    std::string device = o.model.device;
    if (distributed && device == "cuda") device = "cuda:" + std::to_string(std::max(0, env_int("LOCAL_RANK")));
    mp.device = device.c_str();
    if (distributed && o.model.threads_option->count() == 0) {
        const int local = std::max(1, env_int("LOCAL_WORLD_SIZE"));
        mp.threads = static_cast<int32_t>(std::max(1u, std::thread::hardware_concurrency() / static_cast<unsigned>(local)));
    }
    mp.feature_size = o.feature_size;
    if (!o.num_heads.empty()) {
        const std::string& v = o.num_heads;
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

void add_model_spec(CLI::App& cmd, ModelSpec& o) {
    o.model.add(cmd, false);
    cmd.add_option("--feature-size", o.feature_size, "network width for fresh weights (default 48)")
        ->check(CLI::NonNegativeNumber)->group("Network");
    cmd.add_option("--num-heads", o.num_heads, "attention heads per stage for fresh weights, A,B,C,D (default 3,6,12,24)")
        ->group("Network");
}

int run_train(TrainOptions& o, const Args& raw_args);
int run_evaluate(EvaluateOptions& o);

}  // namespace

Run add_train(CLI::App& app, const Args& raw_args) {
    auto o = std::make_shared<TrainOptions>();
    swu_train_params& tp = o->tp;
    swu_train_params_init(&tp);
    CLI::App* cmd = app.add_subcommand("train", "train on a MONAI datalist (the bundle's recipe)");
    cmd->footer(kTrainFooter);
    cmd->add_option("--datalist", o->datalist, "D.json")->required()->group("Data");
    cmd->add_option("--output-dir", o->output, "DIR for model.pt, resume.pt/.json and metrics.jsonl")->required()->group("Data");
    cmd->add_option("--weights", o->weights, "INIT.pt to start from (fine-tuning)")->group("Data");
    cmd->add_flag("--resume", o->resume, "continue from DIR/resume.pt (weights, optimizer, counters)")->group("Data");
    cmd->add_option("--cache-mb", o->cache_mb, "preprocessed cases kept in memory, MiB (default 4096)")
        ->check(CLI::NonNegativeNumber)->group("Data");
    CLI::Option* epochs = cmd->add_option("--epochs", tp.max_epochs, "epochs to train")
        ->check(CLI::PositiveNumber)->capture_default_str()->group("Schedule");
    o->max_iterations = cmd->add_option("--max-iterations", tp.max_iterations, "stop after this many steps instead")
        ->check(CLI::PositiveNumber)->excludes(epochs)->group("Schedule");
    cmd->add_option("--val-interval", tp.val_interval, "epochs between validations; 0: never")
        ->check(CLI::NonNegativeNumber)->capture_default_str()->group("Schedule");
    cmd->add_option("--batch-size", tp.batch_size, "volumes per step (per rank)")->check(CLI::PositiveNumber)->capture_default_str()->group("Schedule");
    cmd->add_option("--num-samples", tp.num_samples, "crops per volume")->check(CLI::PositiveNumber)->capture_default_str()->group("Schedule");
    cmd->add_option("--roi", tp.roi, "crop size per axis, a multiple of 32, at least 64")->check(CLI::PositiveNumber)->capture_default_str()->group("Schedule");
    cmd->add_option("--lr", tp.learning_rate, "Adam learning rate")->check(CLI::PositiveNumber)->capture_default_str()->group("Schedule");
    cmd->add_option("--seed", tp.seed, "random seed")->capture_default_str()->group("Schedule");
    cmd->add_option("--amp", o->amp, "mixed precision (default: on for CUDA)")->check(CLI::IsMember({"on", "off"}))->group("Schedule");
    cmd->add_option("--checkpointing", o->checkpointing, "recompute Swin block activations in backward (default on)")
        ->check(CLI::IsMember({"on", "off"}))->group("Schedule");
    add_model_spec(*cmd, o->spec);
    cmd->add_option("--nproc", o->nproc, "start N local ranks (torchrun's job, without Python)")
        ->check(CLI::Range(1, 256))->group("Distributed");
    cmd->add_option("--dist-timeout", tp.distributed_timeout, "seconds to wait for the other ranks")
        ->check(CLI::PositiveNumber)->capture_default_str()->group("Distributed");
    return [o, raw_args] { return run_train(*o, raw_args); };
}

Run add_evaluate(CLI::App& app) {
    auto o = std::make_shared<EvaluateOptions>();
    swu_infer_params_init(&o->ip);
    CLI::App* cmd = app.add_subcommand("evaluate", "Dice per organ of a model on a datalist");
    cmd->footer("Segments every case (the \"validation\" list, else \"training\") and prints Dice per organ.");
    cmd->add_option("--weights", o->weights, "model.pt or .safetensors")->required();
    cmd->add_option("--datalist", o->datalist, "D.json (MONAI datalist)")->required();
    cmd->add_option("--report", o->report, "write Dice per case and organ here (JSON)");
    cmd->add_option("--section", o->section, "the datalist's list to evaluate")->check(CLI::IsMember({"training", "validation"}));
    add_model_spec(*cmd, o->spec);
    cmd->add_option("--roi", o->ip.roi, "sliding-window size per axis")->check(CLI::PositiveNumber)->capture_default_str()->group("Sliding window");
    cmd->add_option("--overlap", o->ip.overlap, "window overlap, 0 <= F < 1")->capture_default_str()->group("Sliding window");
    cmd->add_option("--sw-batch", o->ip.sw_batch, "windows per network call")->check(CLI::PositiveNumber)->capture_default_str()->group("Sliding window");
    return [o] { return run_evaluate(*o); };
}

namespace {

int run_train(TrainOptions& o, const Args& raw_args) {
    if (o.nproc > 0) {
        if (std::getenv("WORLD_SIZE")) {
            std::fprintf(stderr, "swinunetr train: --nproc starts the ranks itself; WORLD_SIZE is already set (a "
                                 "launcher started this process)\n");
            return 2;
        }
        Args rest;  // the command line less --nproc N / --nproc=N
        for (size_t i = 0; i < raw_args.size(); ++i) {
            if (raw_args[i] == "--nproc") ++i;
            else if (raw_args[i].rfind("--nproc=", 0) != 0) rest.push_back(raw_args[i]);
        }
        return launch_local(o.nproc, "train", rest);
    }
    // Started by torchrun, `--nproc` or a scheduler's wrapper: one rank of a distributed run.
    const bool distributed = std::getenv("WORLD_SIZE") != nullptr;
    swu_train_params& tp = o.tp;
    const std::string& output = o.output;
    tp.datalist = o.datalist.c_str();
    tp.output_dir = o.output.c_str();
    if (!o.weights.empty()) tp.initial_weights = o.weights.c_str();
    tp.resume = o.resume ? 1 : 0;
    if (!o.amp.empty()) tp.amp = o.amp == "on" ? 1 : 0;
    if (!o.checkpointing.empty()) tp.checkpointing = o.checkpointing == "on" ? 1 : 0;
    if (o.max_iterations->count() > 0) tp.max_epochs = 1 << 30;  // the iteration count decides
    if (o.cache_mb >= 0) tp.cache_bytes = static_cast<int64_t>(o.cache_mb * 1048576.0);
    tp.distributed = distributed ? SWU_DISTRIBUTED_ENV : SWU_DISTRIBUTED_OFF;
    catch_interrupts();
    swinunetr::ModelPtr model;
    if (const int rc = model_for(o.spec, "train", model, distributed)) return rc;
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

int run_evaluate(EvaluateOptions& o) {
    swu_infer_params& ip = o.ip;
    swinunetr::ModelPtr model;
    if (const int rc = model_for(o.spec, "evaluate", model)) return rc;
    swu_status st = swu_model_load_weights(model.get(), o.weights.c_str());
    if (st != SWU_OK) return report_failure("loading weights", st);
    // The report is always written (when not asked for, into a fresh private folder,
    // never a predictable name under /tmp): the per-organ figures printed below come from it.
    const std::string& asked = o.report;
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
    const std::string& section = o.section;
    double mean = 0;
    st = swu_evaluate(model.get(), o.datalist.c_str(), section.empty() ? nullptr : section.c_str(), &ip,
                      report.c_str(), &mean);
    if (st != SWU_OK) {
        if (!scratch.empty()) rmdir(scratch.c_str());
        return report_failure("evaluation", st);
    }
    try {
        const swu::json::Value r = swu::json::parse_file(report);
        std::printf("%zu cases\n", r.at("cases").size());
        for (const auto& [organ, dice] : r.at("organ_mean_dice").members())
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

}  // namespace
}  // namespace swu_cli
