#include "node/receiver.hpp"

#include "node/tls.hpp"

#include <sys/statvfs.h>

#include <chrono>
#include <cstdio>
#include <filesystem>

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmnet/dimse.h>
#include <dcmtk/dcmnet/scp.h>

namespace swu_node {
namespace {

// What our reader (ITK/GDCM) decodes: uncompressed, JPEG lossless, JPEG 2000, RLE.
const OFList<OFString>& transfer_syntaxes() {
    static const OFList<OFString> list = [] {
        OFList<OFString> l;
        for (const char* ts : {UID_LittleEndianExplicitTransferSyntax, UID_LittleEndianImplicitTransferSyntax,
                               UID_BigEndianExplicitTransferSyntax, UID_DeflatedExplicitVRLittleEndianTransferSyntax,
                               UID_JPEGProcess14SV1TransferSyntax, UID_JPEGProcess14TransferSyntax,
                               UID_JPEG2000LosslessOnlyTransferSyntax, UID_JPEG2000TransferSyntax,
                               UID_RLELosslessTransferSyntax, UID_JPEGProcess1TransferSyntax,
                               UID_JPEGProcess2_4TransferSyntax})
            l.push_back(ts);
        return l;
    }();
    return list;
}

double free_mb(const std::string& path) {
    struct statvfs s {};
    if (statvfs(path.c_str(), &s) != 0) return 0;
    return static_cast<double>(s.f_bavail) * static_cast<double>(s.f_frsize) / 1048576.0;
}

std::string element(DcmDataset* d, const DcmTagKey& tag) {
    OFString v;
    if (d && d->findAndGetOFString(tag, v).good()) return v.c_str();
    return {};
}

}  // namespace

class Receiver::Scp : public DcmSCP {
public:
    Scp(const Config& c, Spool& spool, Log& log) : config_(c), spool_(spool), log_(log) {
        setAETitle(c.ae_title.c_str());
        setPort(static_cast<Uint16>(c.port));
        setMaxReceivePDULength(static_cast<Uint32>(c.max_pdu));
        setConnectionBlockingMode(DUL_NOBLOCK);
        setConnectionTimeout(1);
        setDIMSEBlockingMode(DIMSE_NONBLOCKING);
        setDIMSETimeout(60);
        setACSETimeout(30);
        setHostLookupEnabled(OFFalse);
        OFList<OFString> echo;
        echo.push_back(UID_LittleEndianImplicitTransferSyntax);
        echo.push_back(UID_LittleEndianExplicitTransferSyntax);
        addPresentationContext(UID_VerificationSOPClass, echo);
        // Every storage SOP class: a series that is not CT is received, logged and kept
        // aside rather than refused at the door.
        for (int i = 0; i < numberOfDcmAllStorageSOPClassUIDs; ++i)
            addPresentationContext(dcmAllStorageSOPClassUIDs[i], transfer_syntaxes());
        if (c.tls.enabled) {
            tls_ = make_tls_layer(c.tls, NET_ACCEPTOR);
            getConfig().setTransportLayer(tls_.get());
        }
    }

    std::atomic<bool> stopping{false};

protected:
    void notifyAssociationRequest(const T_ASC_Parameters& params, DcmSCPActionType& desiredAction) override {
        caller_ = params.DULparams.callingAPTitle;
        host_ = params.DULparams.callingPresentationAddress;
        const size_t colon = host_.rfind(':');
        if (colon != std::string::npos && host_.find(':') == colon) host_.erase(colon);  // "ip:port"
        started_ = std::chrono::steady_clock::now();
        instances_ = refused_ = 0;
        bytes_ = 0;
        refusal_.clear();
        bool known = false, allowed = false;
        for (const Peer& p : config_.allowed_callers) {
            known |= p.ae_title == caller_;
            allowed |= p.ae_title == caller_ && (p.host.empty() || p.host == host_);
        }
        if (!known && !caller_.empty()) {
            // Refused by checkCallingAETitleAccepted below, with the reason DICOM has for it.
            refused_association_ = true;
            DcmSCP::notifyAssociationRequest(params, desiredAction);
            return;
        }
        if (!allowed) {
            desiredAction = DCMSCP_ACTION_REFUSE_ASSOCIATION;
            log_.line(caller_.empty() ? "connection from " + host_ + " without a calling AE title: refused"
                                      : "association from " + caller_ + " at " + host_ +
                                            ": refused (calling AE title and host not in allowed_callers)");
            refused_association_ = true;
            return;
        }
        refused_association_ = false;
        DcmSCP::notifyAssociationRequest(params, desiredAction);
    }

    OFBool checkCalledAETitleAccepted(const OFString& called) override {
        return called == config_.ae_title.c_str();
    }

    // An AE title no entry names is refused as "calling AE title not recognized"; the
    // pair (AE title, host) is checked in notifyAssociationRequest.
    OFBool checkCallingAETitleAccepted(const OFString& calling) override {
        for (const Peer& p : config_.allowed_callers)
            if (calling == p.ae_title.c_str()) return OFTrue;
        log_.line("association from " + std::string(calling.c_str()) + " at " + host_ +
                  ": refused (calling AE title not recognized: not in allowed_callers)");
        return OFFalse;
    }

    void notifyAssociationTermination() override {
        if (refused_association_) return;
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
        char buf[256];
        std::snprintf(buf, sizeof buf, "association from %s at %s: %zu instance(s) stored (%.1f MB) in %.1f s", caller_.c_str(),
                      host_.c_str(), instances_, static_cast<double>(bytes_) / 1048576.0, s);
        log_.line(std::string(buf) + (refused_ ? "; " + std::to_string(refused_) + " refused (" + refusal_ + ")" : ""));
    }

    OFBool stopAfterConnectionTimeout() override { return stopping.load(); }
    OFBool stopAfterCurrentAssociation() override { return stopping.load(); }

    OFCondition handleIncomingCommand(T_DIMSE_Message* msg, const DcmPresentationContextInfo& info) override {
        if (msg->CommandField != DIMSE_C_STORE_RQ) return DcmSCP::handleIncomingCommand(msg, info);
        T_DIMSE_C_StoreRQ& rq = msg->msg.CStoreRQ;
        const std::string tmp = spool_.temporary_file();
        OFCondition cond = receiveSTORERequest(rq, info.presentationContextID, tmp.c_str());
        if (cond.bad()) {
            std::remove(tmp.c_str());
            log_.line("association from " + caller_ + ": receiving an instance failed: " + cond.text());
            return cond;
        }
        const Uint16 status = keep(rq, tmp);
        if (status != STATUS_Success) std::remove(tmp.c_str());
        return sendSTOREResponse(info.presentationContextID, rq, status);
    }

private:
    Uint16 refuse(Uint16 status, const std::string& why) {
        ++refused_;
        if (refusal_.empty()) refusal_ = why;
        return status;
    }

    // Checks a received instance and moves it into the spool; the C-STORE status.
    Uint16 keep(const T_DIMSE_C_StoreRQ& rq, const std::string& tmp) {
        std::error_code ec;
        const uintmax_t size = std::filesystem::file_size(tmp, ec);
        bytes_ += ec ? 0 : size;
        if (static_cast<double>(bytes_) > config_.max_association_mb * 1048576.0)
            return refuse(STATUS_STORE_Refused_OutOfResources, "over max_association_mb");
        if (free_mb(spool_.root()) < config_.min_free_disk_mb)
            return refuse(STATUS_STORE_Refused_OutOfResources, "spool below min_free_disk_mb");
        // The whole dataset is parsed (values over 4 KB are skipped, not loaded), so a
        // truncated one is refused here rather than failing its series later.
        DcmFileFormat file;
        if (file.loadFile(tmp.c_str(), EXS_Unknown, EGL_noChange, 4096).bad())
            return refuse(STATUS_STORE_Error_CannotUnderstand, "not a readable DICOM dataset (truncated?)");
        DcmDataset* d = file.getDataset();
        const std::string study = element(d, DCM_StudyInstanceUID), series = element(d, DCM_SeriesInstanceUID),
                          sop = element(d, DCM_SOPInstanceUID);
        if (!is_uid(study) || !is_uid(series) || !is_uid(sop))
            return refuse(STATUS_STORE_Error_CannotUnderstand, "Study/Series/SOP Instance UID missing or not a UID");
        if (sop != rq.AffectedSOPInstanceUID)
            return refuse(STATUS_STORE_Error_DataSetDoesNotMatchSOPClass, "SOP Instance UID differs from the request's");
        const bool known = [&] {
            std::error_code e;
            return std::filesystem::exists(spool_.dir("incoming") + "/" + study + "/" + series, e);
        }();
        if (!known && spool_.queued() >= static_cast<size_t>(config_.max_queued_series))
            return refuse(STATUS_STORE_Refused_OutOfResources, "the queue holds max_queued_series series");
        if (!sync_path(tmp)) return refuse(STATUS_STORE_Refused_OutOfResources, "cannot fsync the spool");
        try {
            spool_.add_instance(tmp, study, series, sop, caller_);
        } catch (const std::exception& e) {
            return refuse(STATUS_STORE_Refused_OutOfResources, e.what());
        }
        ++instances_;
        return STATUS_Success;
    }

    const Config& config_;
    Spool& spool_;
    Log& log_;
    std::unique_ptr<DcmTLSTransportLayer> tls_;
    std::string caller_, host_, refusal_;
    std::chrono::steady_clock::time_point started_;
    size_t instances_ = 0, refused_ = 0;
    uintmax_t bytes_ = 0;
    bool refused_association_ = false;
};

Receiver::Receiver(const Config& config, Spool& spool, Log& log) : scp_(new Scp(config, spool, log)) {}
Receiver::~Receiver() = default;

bool Receiver::run(std::string& error) {
    const OFCondition cond = scp_->listen();
    if (cond.bad() && !scp_->stopping.load()) {
        error = cond.text();
        return false;
    }
    return true;
}

void Receiver::stop() { scp_->stopping = true; }

}  // namespace swu_node
