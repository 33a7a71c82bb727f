// Builds an OpenSSL server context (through Boost.Asio's ssl::context) from a parsed
// tls_server_config: certificate chain and key, client certificate policy, protocol
// versions, cipher suites and curves. Loading reads the files named in the config.
// Thread-safety: MakeTlsContext may run on any thread; the context it returns is only read
// afterwards (OpenSSL allows that from many connections at once). Throws only std::bad_alloc.
#pragma once

#include <memory>

#include <boost/asio/ssl/context.hpp>

#include "common/http/web_config.h"
#include "common/result.h"

namespace kvmem::http {

// kConfig error naming the key and file and OpenSSL's reason when a file cannot be loaded,
// the key does not match the certificate, or a listed cipher suite or curve is not
// available in this OpenSSL.
Result<std::shared_ptr<boost::asio::ssl::context>> MakeTlsContext(const TlsServerConfig& config);

}  // namespace kvmem::http
