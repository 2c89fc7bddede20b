// `swinunetr serve`: the DICOM node. Three threads over one spool (spool.hpp):
//   receiver   C-STORE / C-ECHO provider, instances into incoming/ (receiver.hpp)
//   worker     (this thread) complete series into queue/, non-CT ones into rejected/;
//              one job at a time: read the series, segment with the loaded model,
//              write the DICOM SEG into outbox/
//   sender     outbox/ to the destination by C-STORE, with back-off while it is down
// SIGTERM or SIGINT: the receiver stops after the current association, the worker
// parks the current job back in queue/ (it runs again at the next start), the sender
// finishes the file it is sending.
#pragma once

#include "node/config.hpp"

namespace swu_node {

// Runs until SIGTERM/SIGINT; the process exit code (0 after a clean stop).
int serve(const Config& config);

}  // namespace swu_node
