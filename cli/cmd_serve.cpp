// `swinunetr serve --config node.json`: the DICOM node (cli/node/node.hpp).
#include "commands.hpp"
#include "node/config.hpp"
#include "node/node.hpp"

namespace swu_cli {

Run add_serve(CLI::App& app) {
    auto config_path = std::make_shared<std::string>();
    CLI::App* cmd = app.add_subcommand("serve", "a DICOM node: receive CT series (C-STORE), segment them, send the DICOM SEG");
    cmd->footer(
        "The node runs in the foreground and logs to stderr; SIGTERM or Ctrl-C stop it cleanly.\n"
        "node.json (README, \"Run as a DICOM node\"):\n"
        "  {\"ae_title\": \"SWU\", \"port\": 11112, \"spool\": \"/var/spool/swinunetr\", \"weights\": \"model.pt\",\n"
        "   \"backend\": \"auto\", \"threads\": 0, \"series_timeout_s\": 30,\n"
        "   \"allowed_callers\": [{\"ae_title\": \"ORTHANC\", \"host\": \"127.0.0.1\", \"port\": 4242}],\n"
        "   \"destination\": {\"ae_title\": \"ORTHANC\", \"host\": \"127.0.0.1\", \"port\": 4242}}");
    cmd->add_option("--config", *config_path, "the node's JSON configuration")->required();
    return [config_path] {
        swu_node::Config config;
        try {
            config = swu_node::read_config(*config_path);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "swinunetr serve: %s\n", e.what());
            return 2;
        }
        return swu_node::serve(config);
    };
}

}  // namespace swu_cli
