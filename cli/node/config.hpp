// The DICOM node's configuration (`swinunetr serve --config node.json`).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace swu_node {

struct Peer {
    std::string ae_title, host;
    int port = 0;  // 0: not given (a caller that never receives results)
};

// DICOM over TLS (DCMTK's dcmtls): with it, the node accepts TLS connections only and
// sends its results over TLS too, with the same certificate.
struct Tls {
    bool enabled = false;
    std::string certificate, private_key;    // PEM
    std::vector<std::string> trusted;        // PEM certificates of the peers (or their CA)
    bool verify_peer = true;                 // false: a peer without a trusted certificate is accepted
};

struct Config {
    std::string ae_title = "SWU";
    int port = 11112;
    std::string spool, weights;
    std::string backend = "auto";
    int threads = 0;
    double series_timeout_s = 30;
    std::vector<Peer> allowed_callers;
    bool has_destination = false;
    Peer destination;              // else: results go back to the caller (its port from allowed_callers)
    int max_pdu = 65536;           // bytes we accept per PDU
    double max_association_mb = 4096;  // received bytes per association before refusing (out of resources)
    double min_free_disk_mb = 1024;    // free space the spool keeps; below it stores are refused
    int max_queued_series = 64;        // complete series waiting; beyond, new series are refused
    double retry_initial_s = 5, retry_max_s = 300;  // sending results: back-off between attempts
    double overlap = 0.5;
    int sw_batch = 4;
    bool log_patient_data = false;  // debug: patient names and IDs in the log
    Tls tls;
};

// Reads and checks the file; throws std::runtime_error naming the file and the key
// (unknown keys are refused by name).
Config read_config(const std::string& path);

}  // namespace swu_node
