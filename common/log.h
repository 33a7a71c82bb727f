// A small structured logger in node_exporter's style: logfmt or JSON lines on stderr.
// Thread-safe: each line is written with one call under a mutex. Never throws.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace kvmem::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };
enum class Format { kLogfmt, kJson };

using Field = std::pair<std::string_view, std::string>;

// Returns false if `name` is not one of debug, info, warn, error / logfmt, json.
bool ParseLevel(std::string_view name, Level* out);
bool ParseFormat(std::string_view name, Format* out);

void Configure(Level level, Format format);
bool Enabled(Level level);

// Writes `ts=… level=… msg=… key=value…`. Values are quoted when needed.
void Write(Level level, std::string_view msg, std::initializer_list<Field> fields = {});

inline void Debug(std::string_view m, std::initializer_list<Field> f = {}) { Write(Level::kDebug, m, f); }
inline void Info(std::string_view m, std::initializer_list<Field> f = {}) { Write(Level::kInfo, m, f); }
inline void Warn(std::string_view m, std::initializer_list<Field> f = {}) { Write(Level::kWarn, m, f); }
inline void Error(std::string_view m, std::initializer_list<Field> f = {}) { Write(Level::kError, m, f); }

}  // namespace kvmem::log
