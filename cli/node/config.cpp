#include "node/config.hpp"

#include <cstdio>
#include <set>
#include <stdexcept>

#include "common/error.hpp"
#include "io/json.hpp"

namespace swu_node {
namespace {

using swu::json::Value;

[[noreturn]] void bad(const std::string& path, const std::string& what) { throw std::runtime_error(path + ": " + what); }

void check_keys(const Value& object, const std::set<std::string>& known, const std::string& path, const std::string& where) {
    for (const auto& [key, value] : object.members())
        if (!known.count(key)) bad(path, "unknown key '" + where + key + "'");
}

std::string text(const Value& v, const std::string& key, const std::string& path) {
    if (!v.is_string() || v.as_string().empty()) bad(path, "'" + key + "' must be a non-empty string");
    return v.as_string();
}

double number(const Value& v, const std::string& key, const std::string& path, double lo, double hi) {
    if (!v.is_number() || !(v.as_number() >= lo && v.as_number() <= hi)) {
        char range[96];
        std::snprintf(range, sizeof range, "a number from %g to %g", lo, hi);
        bad(path, "'" + key + "' must be " + range);
    }
    return v.as_number();
}

// AE titles: 1 to 16 characters of the default repertoire, no backslash, not all spaces.
std::string ae_title(const Value& v, const std::string& key, const std::string& path) {
    const std::string s = text(v, key, path);
    bool printable = s.size() <= 16 && s.find_first_not_of(' ') != std::string::npos;
    for (char c : s) printable &= c >= 0x20 && c < 0x7f && c != '\\';
    if (!printable) bad(path, "'" + key + "' is not an AE title (1 to 16 printable characters)");
    return s;
}

Peer peer(const Value& v, const std::string& key, const std::string& path, bool port_required) {
    if (!v.is_object()) bad(path, "'" + key + "' must be an object");
    check_keys(v, {"ae_title", "host", "port"}, path, key + ".");
    Peer p;
    p.ae_title = ae_title(v.at("ae_title"), key + ".ae_title", path);
    if (const auto host = v.find("host")) p.host = text(*host, key + ".host", path);
    else if (port_required) bad(path, "'" + key + ".host' is required");
    if (const auto port = v.find("port")) p.port = static_cast<int>(number(*port, key + ".port", path, 1, 65535));
    else if (port_required) bad(path, "'" + key + ".port' is required");
    return p;
}

}  // namespace

Config read_config(const std::string& path) {
    Value root = swu::json::parse("null");
    try {
        root = swu::json::parse_file(path);
    } catch (const std::exception& e) {
        throw std::runtime_error(e.what());
    }
    if (!root.is_object()) bad(path, "the configuration is a JSON object");
    check_keys(root,
               {"ae_title", "port", "spool", "weights", "backend", "threads", "series_timeout_s", "allowed_callers",
                "destination", "max_pdu", "max_association_mb", "min_free_disk_mb", "max_queued_series",
                "retry_initial_s", "retry_max_s", "overlap", "sw_batch", "log_patient_data", "tls"},
               path, "");
    Config c;
    try {
        for (const char* key : {"spool", "weights", "allowed_callers"})
            if (!root.find(key)) bad(path, std::string("'") + key + "' is required");
        if (const auto v = root.find("ae_title")) c.ae_title = ae_title(*v, "ae_title", path);
        if (const auto v = root.find("port")) c.port = static_cast<int>(number(*v, "port", path, 1, 65535));
        c.spool = text(root.at("spool"), "spool", path);
        c.weights = text(root.at("weights"), "weights", path);
        if (const auto v = root.find("backend")) c.backend = text(*v, "backend", path);
        if (const auto v = root.find("threads")) c.threads = static_cast<int>(number(*v, "threads", path, 0, 1024));
        if (const auto v = root.find("series_timeout_s")) c.series_timeout_s = number(*v, "series_timeout_s", path, 0.1, 86400);
        const Value callers = root.at("allowed_callers");
        if (!callers.is_array() || callers.size() == 0) bad(path, "'allowed_callers' must be a non-empty list");
        for (size_t i = 0; i < callers.size(); ++i)
            c.allowed_callers.push_back(peer(callers.at(i), "allowed_callers[" + std::to_string(i) + "]", path, false));
        if (const auto v = root.find("destination")) {
            c.destination = peer(*v, "destination", path, true);
            c.has_destination = true;
        } else {
            for (const Peer& p : c.allowed_callers)
                if (p.host.empty() || p.port == 0)
                    bad(path, "without 'destination' results go back to the caller: allowed caller '" + p.ae_title +
                                  "' needs 'host' and 'port'");
        }
        if (const auto v = root.find("max_pdu")) c.max_pdu = static_cast<int>(number(*v, "max_pdu", path, 4096, 131072));
        if (const auto v = root.find("max_association_mb")) c.max_association_mb = number(*v, "max_association_mb", path, 1, 1e7);
        if (const auto v = root.find("min_free_disk_mb")) c.min_free_disk_mb = number(*v, "min_free_disk_mb", path, 0, 1e9);
        if (const auto v = root.find("max_queued_series"))
            c.max_queued_series = static_cast<int>(number(*v, "max_queued_series", path, 1, 100000));
        if (const auto v = root.find("retry_initial_s")) c.retry_initial_s = number(*v, "retry_initial_s", path, 0.1, 86400);
        if (const auto v = root.find("retry_max_s")) c.retry_max_s = number(*v, "retry_max_s", path, c.retry_initial_s, 86400);
        if (const auto v = root.find("overlap")) c.overlap = number(*v, "overlap", path, 0, 0.99);
        if (const auto v = root.find("sw_batch")) c.sw_batch = static_cast<int>(number(*v, "sw_batch", path, 1, 64));
        if (const auto v = root.find("log_patient_data")) {
            if (!v->is_bool()) bad(path, "'log_patient_data' must be true or false");
            c.log_patient_data = v->as_bool();
        }
        if (const auto v = root.find("tls")) {
            if (!v->is_object()) bad(path, "'tls' must be an object");
            check_keys(*v, {"certificate", "private_key", "trusted_certificates", "verify_peer"}, path, "tls.");
            c.tls.enabled = true;
            c.tls.certificate = text(v->at("certificate"), "tls.certificate", path);
            c.tls.private_key = text(v->at("private_key"), "tls.private_key", path);
            if (const auto list = v->find("trusted_certificates")) {
                if (!list->is_array()) bad(path, "'tls.trusted_certificates' must be a list of files");
                for (size_t i = 0; i < list->size(); ++i)
                    c.tls.trusted.push_back(text(list->at(i), "tls.trusted_certificates[" + std::to_string(i) + "]", path));
            }
            if (const auto verify = v->find("verify_peer")) {
                if (!verify->is_bool()) bad(path, "'tls.verify_peer' must be true or false");
                c.tls.verify_peer = verify->as_bool();
            }
            if (c.tls.verify_peer && c.tls.trusted.empty())
                bad(path, "'tls.verify_peer' needs 'tls.trusted_certificates' (or set it to false)");
        }
    } catch (const swu::Error& e) {  // a key of the wrong kind, named by the JSON layer
        bad(path, e.what());
    }
    return c;
}

}  // namespace swu_node
