#include "node/tls.hpp"

#include <stdexcept>

namespace swu_node {

std::unique_ptr<DcmTLSTransportLayer> make_tls_layer(const Tls& tls, T_ASC_NetworkRole role) {
    auto layer = std::make_unique<DcmTLSTransportLayer>(role, nullptr, OFTrue);
    auto check = [](const OFCondition& c, const std::string& what) {
        if (c.bad()) throw std::runtime_error("TLS: " + what + ": " + c.text());
    };
    check(layer->setTLSProfile(TSP_Profile_BCP195), "profile BCP 195");
    check(layer->activateCipherSuites(), "cipher suites");
    check(layer->setPrivateKeyFile(tls.private_key.c_str(), DCF_Filetype_PEM), "private key " + tls.private_key);
    check(layer->setCertificateFile(tls.certificate.c_str(), DCF_Filetype_PEM), "certificate " + tls.certificate);
    if (!layer->checkPrivateKeyMatchesCertificate())
        throw std::runtime_error("TLS: " + tls.private_key + " is not the key of " + tls.certificate);
    for (const std::string& t : tls.trusted) check(layer->addTrustedCertificateFile(t.c_str(), DCF_Filetype_PEM), "trusted certificate " + t);
    layer->setCertificateVerification(tls.verify_peer ? DCV_requireCertificate : DCV_ignoreCertificate);
    return layer;
}

}  // namespace swu_node
