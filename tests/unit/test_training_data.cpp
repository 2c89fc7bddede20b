// The core's training pieces: the Dice metric against golden loss_metric/, the model.pt
// writer read back by our reader, fresh weights and their index buffers against MONAI's,
// the random crops' invariants, and the datalist reader.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <set>

#include "checkpoint/byte_source.hpp"
#include "checkpoint/checkpoint.hpp"
#include "checkpoint/checkpoint_writer.hpp"
#include "common/error.hpp"
#include "golden.hpp"
#include "io/json.hpp"
#include "model/init_weights.hpp"
#include "model/network_config.hpp"
#include "train/augment.hpp"
#include "train/datalist.hpp"
#include "train/dice.hpp"

using namespace swu_test;

TEST_CASE("training: Dice metric and MeanDice follow MONAI, absent organs included", "[golden]") {
    REQUIRE(golden_available());
    const swu::Tensor pred = load_golden("loss_metric/metric_pred_labels.npy");  // {3, 1, 12, 12, 12}
    const swu::Tensor gt = load_golden("loss_metric/metric_gt_labels.npy");
    const swu::json::Value results = swu::json::parse_file(golden_path("loss_metric/metric_results.json"));
    for (const bool ignore_empty : {true, false}) {
        INFO("ignore_empty " << ignore_empty);
        const swu::Tensor want = load_golden(ignore_empty ? "loss_metric/dice_raw_ignore_empty_true.npy"
                                                          : "loss_metric/dice_raw_ignore_empty_false.npy");
        const int64_t n = 12 * 12 * 12;
        std::vector<std::vector<double>> raw;
        for (int64_t item = 0; item < 3; ++item) {
            raw.push_back(swu::dice_per_class(pred.as<uint8_t>() + item * n, gt.as<uint8_t>() + item * n, n, 14, ignore_empty));
            for (int c = 0; c < 13; ++c) {
                const float w = want.as<float>()[item * 13 + c];
                const double got = raw.back()[static_cast<size_t>(c)];
                INFO("item " << item << " class " << c + 1);
                if (std::isnan(w)) CHECK(std::isnan(got));
                else CHECK(std::fabs(got - w) <= 1e-6);
            }
        }
        if (ignore_empty) {
            const swu::json::Value& agg = results.at("ignore_empty_true");
            CHECK(std::fabs(swu::mean_dice(raw) - agg.at("mean").as_number()) <= 1e-6);
            // MONAI reports 0 for a class that is NaN in every item; we report NaN.
            const std::vector<double> per_class = swu::mean_dice_per_class(raw);
            const swu::json::Value& want_class = agg.at("mean_batch_per_class_1_to_13");
            for (size_t c = 0; c < per_class.size(); ++c) {
                if (std::isnan(per_class[c])) CHECK(want_class.at(c).as_number() == 0.0);
                else CHECK(std::fabs(per_class[c] - want_class.at(c).as_number()) <= 1e-6);
            }
        }
    }
}

TEST_CASE("training: fresh weights have MONAI's layout and index buffers, and model.pt round-trips", "[golden]") {
    REQUIRE(golden_available());
    const std::vector<swu::NamedTensor> golden = swu::read_checkpoint_file(golden_path("net_f12/model.pt"));
    swu::NetworkConfig config;
    config.in_channels = 1;
    config.out_channels = 14;
    config.feature_size = 12;
    config.depths = {2, 2, 2, 2};
    config.num_heads = {3, 6, 12, 24};
    const std::vector<swu::NamedTensor> fresh = swu::initial_weights(config, 7);
    REQUIRE(fresh.size() == golden.size());
    for (size_t i = 0; i < fresh.size(); ++i) {
        INFO(fresh[i].name);
        REQUIRE(fresh[i].name == golden[i].name);  // MONAI's state_dict order
        REQUIRE(fresh[i].tensor.shape == golden[i].tensor.shape);
        REQUIRE(fresh[i].tensor.dtype == golden[i].tensor.dtype);
        if (fresh[i].tensor.dtype == swu::DType::Int64) CHECK(fresh[i].tensor.data == golden[i].tensor.data);
    }
    // Same seed, same weights; another seed, others.
    CHECK(swu::initial_weights(config, 7)[0].tensor.data == fresh[0].tensor.data);
    CHECK(swu::initial_weights(config, 8)[0].tensor.data != fresh[0].tensor.data);

    // Written as torch.save would, read back identically (names, order, dtypes, values).
    const std::vector<uint8_t> bytes = swu::serialize_state_dict(golden);
    const std::vector<swu::NamedTensor> back = swu::read_checkpoint(swu::MemorySource(bytes.data(), bytes.size()));
    REQUIRE(back.size() == golden.size());
    for (size_t i = 0; i < back.size(); ++i) {
        CHECK(back[i].name == golden[i].name);
        CHECK(back[i].tensor.shape == golden[i].tensor.shape);
        CHECK(back[i].tensor.data == golden[i].tensor.data);
    }
}

TEST_CASE("training: random crops keep image and label aligned and follow pos/neg sampling", "[unit]") {
    swu::Case c;
    c.size = {40, 50, 30};  // smaller than the roi on the last axis: padded
    const int64_t n = c.size[0] * c.size[1] * c.size[2];
    c.image.resize(static_cast<size_t>(n));
    c.label.resize(static_cast<size_t>(n));
    for (int64_t x = 0; x < c.size[0]; ++x)
        for (int64_t y = 0; y < c.size[1]; ++y)
            for (int64_t z = 0; z < c.size[2]; ++z) {
                const size_t i = static_cast<size_t>((x * c.size[1] + y) * c.size[2] + z);
                const bool organ = x >= 5 && x < 10 && y >= 5 && y < 10 && z >= 5 && z < 10;
                c.label[i] = organ ? 3 : 0;
                c.image[i] = organ ? 0.75f : (x < 20 ? 0.5f : 0.0f);  // x >= 20: "air", never a centre
            }
    swu::AugmentOptions o;
    o.roi = 32;
    o.num_samples = 2;
    o.flip_prob = o.rotate_prob = 0;  // alignment is checked through the intensities below
    swu::Rng rng(1);
    int with_organ = 0, total = 0;
    for (int draw = 0; draw < 50; ++draw)
        for (const swu::Patch& p : swu::random_patches(c, o, rng)) {
            REQUIRE(p.image.size() == 32u * 32 * 32);
            REQUIRE(p.label.size() == 32u * 32 * 32);
            bool organ = false;
            for (size_t i = 0; i < p.label.size(); ++i) {
                // An organ voxel has intensity 0.75 (+ the shift), every other voxel not.
                const float shifted = p.image[i];
                if (p.label[i] == 3) organ = true;
                if (p.label[i] == 3) CHECK(std::fabs(shifted - 0.75f) <= 0.1f + 1e-6f);
            }
            with_organ += organ;
            ++total;
        }
    // pos 1 : neg 1; background centres may still catch the organ, so at least half do.
    CHECK(with_organ >= total / 2);
    CHECK(with_organ < total);

    // Same seed, same patches.
    swu::Rng a(5), b(5);
    o.flip_prob = o.rotate_prob = 0.5;
    const auto pa = swu::random_patches(c, o, a), pb = swu::random_patches(c, o, b);
    CHECK(pa[0].image == pb[0].image);
    CHECK(pa[1].label == pb[1].label);
}

TEST_CASE("training: datalists resolve relative paths and refuse malformed entries", "[unit]") {
    const std::string dir = "swu_datalist_test";
    std::remove((dir + "/d.json").c_str());
    REQUIRE((std::system(("mkdir -p " + dir).c_str()) == 0));
    {
        std::ofstream(dir + "/d.json") << R"({"training": [{"image": "a.nii.gz", "label": "/abs/l.nii.gz"}], "validation": []})";
    }
    const swu::Datalist d = swu::read_datalist(dir + "/d.json");
    REQUIRE(d.training.size() == 1);
    CHECK(d.training[0].image == dir + "/a.nii.gz");
    CHECK(d.training[0].label == "/abs/l.nii.gz");
    CHECK(d.validation.empty());
    {
        std::ofstream(dir + "/d.json") << R"({"training": [{"image": "a.nii.gz"}]})";
    }
    try {
        swu::read_datalist(dir + "/d.json");
        FAIL("a training entry without a label was accepted");
    } catch (const swu::Error& e) {
        CHECK(e.status() == SWU_ERR_FORMAT);
        CHECK(std::string(e.what()).find("training[0]") != std::string::npos);
    }
    try {
        swu::read_datalist(dir + "/missing.json");
        FAIL("a missing datalist was accepted");
    } catch (const swu::Error& e) {
        CHECK(e.status() == SWU_ERR_IO);
    }
}
