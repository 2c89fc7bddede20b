// The receiver's TLS layer (DCMTK's dcmtls, profile BCP 195) from the node's config;
// the sender uses DcmTLSSCU with the same files (sender.cpp).
#pragma once

#include <memory>
#include <string>

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmnet/assoc.h>
#include <dcmtk/dcmtls/tlslayer.h>

#include "node/config.hpp"

namespace swu_node {

// Throws std::runtime_error naming the file that cannot be used.
std::unique_ptr<DcmTLSTransportLayer> make_tls_layer(const Tls& tls, T_ASC_NetworkRole role);

}  // namespace swu_node
