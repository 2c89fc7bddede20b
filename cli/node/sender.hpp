// Sends one result file to a DICOM peer with C-STORE (DCMTK's DcmSCU).
#pragma once

#include <string>

#include "node/config.hpp"

namespace swu_node {

// True when the peer answered success (or a warning); else false with `error` set.
// With tls.enabled, over TLS with the node's certificate.
bool send_file(const std::string& our_ae, const Peer& to, const Tls& tls, const std::string& path, std::string& error);

}  // namespace swu_node
