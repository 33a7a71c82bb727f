// zlib deflate with a gzip wrapper.
#include "common/http/gzip.h"

#include <zlib.h>

namespace kvmem::http {

bool AcceptsGzip(std::string_view header) {
  size_t pos = 0;
  while (pos < header.size()) {
    size_t comma = header.find(',', pos);
    std::string_view part = header.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
    pos = comma == std::string_view::npos ? header.size() : comma + 1;
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    if (part.substr(0, 4) != "gzip") continue;
    auto q = part.find("q=");
    if (q != std::string_view::npos && part.substr(q + 2, 1) == "0" &&
        part.substr(q + 2).find_first_of("123456789") == std::string_view::npos) {
      return false;
    }
    return true;
  }
  return false;
}

std::optional<std::string> Gzip(std::string_view data) {
  z_stream zs{};
  if (deflateInit2(&zs, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return std::nullopt;
  std::string out;
  out.resize(deflateBound(&zs, static_cast<uLong>(data.size())));
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&zs, Z_FINISH);
  size_t produced = out.size() - zs.avail_out;
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) return std::nullopt;
  out.resize(produced);
  return out;
}

}  // namespace kvmem::http
