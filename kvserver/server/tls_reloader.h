// What kvserver does with TLS on SIGHUP (wired by the node loop through SignalWatcher).
//
// Contract: reload() re-checks the client-port and peer-port files, logs one line per port (the
// certificate now on disk: subject, serial, expiry, number of CAs in the bundle - or why the files
// are unusable), and rebuilds the peer dial credentials so new peer connections use the new files
// at once. The listening ports follow through their FileWatcherCertificateProvider within
// kTlsRefreshIntervalSec (see tls.h for why that cannot be forced in gRPC 1.51). Unreadable or
// inconsistent files never replace working ones in PeerDialCredentials; for the listening side
// see the CAVEAT in tls.h (gRPC's watcher does not check that key and cert match).
//
// Thread-safety: reload() may be called from any thread; calls are serialized by the caller
// (SignalWatcher runs them one at a time).
#pragma once

#include "certs/result.h"
#include "kvserver/server/tls.h"

namespace kvserver::server {

class TlsReloader {
 public:
  // `dial` may be null (a member with no peers to dial yet); it must outlive the reloader.
  TlsReloader(TlsFiles client, TlsFiles peer, PeerDialCredentials* dial);

  // Ok when both ports' files are usable; otherwise the first problem (all are logged).
  certs::Status reload();

 private:
  const TlsFiles client_;
  const TlsFiles peer_;
  PeerDialCredentials* const dial_;
};

}  // namespace kvserver::server
