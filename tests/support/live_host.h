// Facts about this machine's real node 0, read the plain way (no kvmem code), so tests of the
// actuators that write to it have expectations independent of the code under test.
#pragma once

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>

namespace kvmem::live_host {

// Free 2 MiB blocks on node 0 by the kernel's own count: /proc/buddyinfo, orders 9 and up,
// all zones.
inline uint64_t FreeTwoMegabyteBlocksOnNodeZero() {
  std::ifstream in("/proc/buddyinfo");
  uint64_t blocks = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("Node 0,", 0) != 0) continue;
    std::istringstream fields(line.substr(line.find("zone") + 4));
    std::string zone;
    fields >> zone;
    uint64_t count = 0;
    for (int order = 0; fields >> count; ++order) {
      if (order >= 9) blocks += count << (order - 9);
    }
  }
  return blocks;
}

}  // namespace kvmem::live_host
