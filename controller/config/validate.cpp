// Range and relation checks of a parsed policy, as the schema gives them, with messages that
// point into the file.
#include "controller/config/validate.h"

#include <utility>

#include "controller/config/schema.h"

namespace kvmem::config {
namespace {

// The message blames the key the user wrote (the later one when both were written) and shows
// the other with its value: "<key> at line L, column C: must be <rule> <other> (<value>), got
// "<text>"".
void CheckRelation(Sources& src, const schema::Relation& r, const model::Policy& p) {
  if (r.holds(p)) return;
  const std::string earlier(r.earlier), later(r.later);
  const bool blame_later = src.InFile(later) || !src.InFile(earlier);
  const std::string& subject = blame_later ? later : earlier;
  const std::string& other = blame_later ? earlier : later;
  const auto value = [&](const std::string& path) { return schema::Render(*schema::Find(path), p); };
  src.Fail(src.Where(subject) + ": must be " + std::string(blame_later ? r.later_rule : r.earlier_rule) + " " + other +
           " (" + value(other) + (src.InFile(other) ? "" : ", the default") + "), got " +
           src.Got(subject, value(subject)));
}

}  // namespace

void Sources::Fail(std::string message) {
  if (!error_) error_ = Error{ErrorKind::kConfig, std::move(message), file_, 0};
}

void Sources::Note(const std::string& path, YAML::Mark mark, std::string raw) {
  found_.insert_or_assign(path, std::pair{mark, std::move(raw)});
}

std::string Sources::Where(const std::string& path) const {
  auto it = found_.find(path);
  return it == found_.end() ? path + " (default)" : path + " at " + Position(it->second.first);
}

std::string Sources::Got(const std::string& path, const std::string& fallback) const {
  auto it = found_.find(path);
  return "\"" + (it == found_.end() ? fallback : it->second.second) + "\"";
}

void Validate(Sources& src, const model::Policy& p) {
  for (const schema::Key& key : schema::Keys()) {
    const std::string path(key.path);
    if (const std::string rule = schema::Broken(key, p); !rule.empty()) {
      src.Fail(src.Where(path) + ": must be " + rule + ", got " + src.Got(path, schema::Render(key, p)));
    }
    for (const schema::Relation& r : schema::Relations()) {
      if (r.later == key.path) CheckRelation(src, r, p);
    }
  }
}

}  // namespace kvmem::config
