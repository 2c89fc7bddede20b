#include "node/sender.hpp"

#include <memory>

#include <dcmtk/dcmtls/tlsscu.h>

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmnet/scu.h>

namespace swu_node {

bool send_file(const std::string& our_ae, const Peer& to, const Tls& tls, const std::string& path, std::string& error) {
    DcmFileFormat file;
    if (file.loadFile(path.c_str()).bad()) {
        error = "cannot read " + path;
        return false;
    }
    OFString sop_class, transfer;
    file.getMetaInfo()->findAndGetOFString(DCM_MediaStorageSOPClassUID, sop_class);
    file.getMetaInfo()->findAndGetOFString(DCM_TransferSyntaxUID, transfer);

    // Over TLS: DcmTLSSCU (its default profile, BCP 195) with the node's certificate and
    // the trusted ones.
    std::unique_ptr<DcmSCU> made;
    if (tls.enabled) {
        auto secure = std::make_unique<DcmTLSSCU>();
        secure->enableAuthentication(tls.private_key.c_str(), tls.certificate.c_str(), "");
        for (const std::string& t : tls.trusted) secure->addTrustedCertFile(t.c_str());
        secure->setPeerCertVerification(tls.verify_peer ? DCV_requireCertificate : DCV_ignoreCertificate);
        made = std::move(secure);
    } else {
        made = std::make_unique<DcmSCU>();
    }
    DcmSCU& scu = *made;
    scu.setAETitle(our_ae.c_str());
    scu.setPeerAETitle(to.ae_title.c_str());
    scu.setPeerHostName(to.host.c_str());
    scu.setPeerPort(static_cast<Uint16>(to.port));
    scu.setConnectionTimeout(10);
    scu.setACSETimeout(30);
    scu.setDIMSETimeout(60);
    scu.setDIMSEBlockingMode(DIMSE_NONBLOCKING);
    OFList<OFString> syntaxes;
    syntaxes.push_back(transfer);
    if (transfer != UID_LittleEndianExplicitTransferSyntax) syntaxes.push_back(UID_LittleEndianExplicitTransferSyntax);
    syntaxes.push_back(UID_LittleEndianImplicitTransferSyntax);
    scu.addPresentationContext(sop_class, syntaxes);
    OFCondition cond = scu.initNetwork();
    if (cond.good()) cond = scu.negotiateAssociation();
    if (cond.bad()) {
        error = std::string("association: ") + cond.text();
        return false;
    }
    const T_ASC_PresentationContextID id = scu.findAnyPresentationContextID(sop_class, transfer);
    if (id == 0) {
        error = "the peer accepts no presentation context for " + std::string(sop_class.c_str());
        scu.releaseAssociation();
        return false;
    }
    Uint16 status = 0;
    cond = scu.sendSTORERequest(id, path.c_str(), nullptr, status);
    scu.releaseAssociation();
    if (cond.bad()) {
        error = std::string("C-STORE: ") + cond.text();
        return false;
    }
    // Success 0x0000, warnings 0xB000, 0xB006, 0xB007: stored.
    if (status != 0 && (status & 0xF000) != 0xB000) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "C-STORE status 0x%04x", status);
        error = buf;
        return false;
    }
    return true;
}

}  // namespace swu_node
