// gzip encoding with zlib for HTTP responses. Thread-safe; throws only std::bad_alloc.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace kvmem::http {

// True if an Accept-Encoding header value allows gzip (and does not set its q to 0).
bool AcceptsGzip(std::string_view accept_encoding);

// gzip-compressed bytes (fast level), or nullopt if zlib fails.
std::optional<std::string> Gzip(std::string_view data);

}  // namespace kvmem::http
