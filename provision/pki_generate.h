// `provision certs generate`: converge pki.dir to what the inventory asks for.
//
// Idempotent by construction: every file is kept unless its assessment (pki_state.h) says why not,
// and the reason is reported. A leaf is re-issued - always with a fresh key - when it is missing,
// unreadable, not the pair of its key, not signed by the current CA, its SANs/EKUs/subject/key type
// differ from the inventory, or it is inside pki.renew_before. The CA is created when absent and
// otherwise never touched unless `new_ca` (then every leaf follows it).
//
// Failure atomicity: everything that could stop the run (an unusable CA, an unwritable pki.dir) is
// checked before the first write; each file is written atomically (temp + fsync + rename), key
// before certificate, so an interrupted run leaves pairs that the next run detects and repairs.
#pragma once

#include <string>
#include <vector>

#include "certs/issue.h"
#include "certs/result.h"
#include "provision/inventory.h"

namespace provision {

enum class FileAction { kCreated, kKept, kReissued };

struct FileOutcome {
  std::string path;
  FileAction action = FileAction::kKept;
  std::string reason;  // for kReissued
};

// "created  pki/ca.crt", "reissued pki/h1/peer.crt (SANs differ: missing IP:10.0.0.5)".
std::string describe(const FileOutcome& outcome);

struct GenerateOptions {
  bool new_ca = false;
  certs::TimePoint now;
};

certs::Result<std::vector<FileOutcome>> generate_pki(const Inventory& inv,
                                                     const GenerateOptions& options);

// The --initial-cluster-token: the inventory's, or the one kept in pki.dir (created on first use).
certs::Result<std::string> cluster_token(const Inventory& inv, std::vector<FileOutcome>* outcomes);

}  // namespace provision
