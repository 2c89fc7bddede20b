// The node's C-STORE / C-ECHO service provider (DCMTK's DcmSCP): accepts associations
// from the allowed callers only, writes every instance to the spool (temporary name,
// fsync, rename), refuses with an out-of-resources status past the association's size
// cap, below the spool's free-disk floor or when the queue is full, and logs one line
// per association.
#pragma once

#include <atomic>
#include <memory>

#include "node/config.hpp"
#include "node/log.hpp"
#include "node/spool.hpp"

namespace swu_node {

class Receiver {
public:
    // Throws std::runtime_error when the TLS files cannot be used.
    Receiver(const Config& config, Spool& spool, Log& log);
    ~Receiver();
    // Listens until stop() (checked every second between associations and after the
    // current one). Returns false with `error` set when the port cannot be opened.
    bool run(std::string& error);
    void stop();

private:
    class Scp;
    std::unique_ptr<Scp> scp_;
};

}  // namespace swu_node
