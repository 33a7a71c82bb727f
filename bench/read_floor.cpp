// The floor for a scrape: open, read and close each listed file, nothing else (no parsing, no
// HTTP). Usage: kvmem_read_floor PASSES < file-list; prints the median microseconds per pass.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  int passes = argc > 1 ? std::atoi(argv[1]) : 1000;
  std::vector<std::string> files;
  for (std::string line; std::getline(std::cin, line);) {
    if (!line.empty()) files.push_back(line);
  }
  std::vector<char> buf(1 << 16);
  std::vector<double> us;
  size_t bytes = 0;
  for (int p = 0; p < passes; ++p) {
    auto start = std::chrono::steady_clock::now();
    for (const auto& f : files) {
      int fd = ::open(f.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) continue;
      ssize_t n;
      while ((n = ::read(fd, buf.data(), buf.size())) > 0) bytes += static_cast<size_t>(n);
      ::close(fd);
    }
    us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(us.begin(), us.end());
  std::printf("%zu files, median %.1f us per pass (p10 %.1f, p90 %.1f), %zu bytes read\n", files.size(),
              us[us.size() / 2], us[us.size() / 10], us[us.size() * 9 / 10], bytes / static_cast<size_t>(passes));
  return 0;
}
