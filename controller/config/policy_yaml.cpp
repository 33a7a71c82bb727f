// Policy loading: walks the YAML tree section by section as the schema lays it out (the shared
// strict walk rejects unknown and duplicate keys), parses each scalar as its kind, then checks
// ranges and relations. The first error wins.
#include "controller/config/policy_yaml.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/yaml_map.h"
#include "controller/config/schema.h"
#include "controller/config/validate.h"

namespace kvmem::config {
namespace {

const yaml_map::Style kStyle{"the policy", false, true};

// Reads one mapping of the file (the top, balloon, balloon.pressure, ...): its keys are checked
// first, then its values and sub-sections in table order, so the first error is the one
// earliest in the table.
void ReadSection(Sources& src, const YAML::Node& node, std::string_view section, model::Policy& p) {
  auto entries = yaml_map::Walk(node, std::string(section), {schema::Children(section)}, kStyle);
  if (!entries) return src.Fail(entries.error().message);
  for (const schema::Key& key : schema::Keys()) {
    if (schema::Parent(key.path) != section) continue;
    auto e = std::find_if(entries->begin(), entries->end(), [&](const auto& x) { return x.path == key.path; });
    const YAML::Node value = e == entries->end() ? YAML::Node() : e->value;
    if (std::holds_alternative<schema::Section>(key.kind)) {
      ReadSection(src, value, key.path, p);
    } else if (e != entries->end() && std::holds_alternative<schema::StringList>(key.kind)) {
      auto items = yaml_map::ScalarList(*e, kStyle);
      if (!items) return src.Fail(items.error().message);
      schema::ReadList(key, *items, p);
      src.Note(e->path, e->value_mark(), schema::Render(key, p));
    } else if (e != entries->end()) {
      auto text = yaml_map::Scalar(*e, kStyle);
      if (!text) return src.Fail(text.error().message);
      src.Note(e->path, e->value_mark(), *text);
      if (auto read = schema::Read(key, *text, p); !read)
        return src.Fail(yaml_map::At(*e, read.error(), kStyle).message);
    }
    if (src.failed()) return;
  }
}

}  // namespace

Result<model::Policy> ParsePolicy(std::string_view yaml, const std::string& file) {
  Sources src(file);
  model::Policy p;
  try {
    ReadSection(src, YAML::Load(std::string(yaml)), "", p);
  } catch (const YAML::Exception& e) {
    src.Fail("YAML syntax error at " + Position(e.mark) + ": " + e.msg);
  } catch (const std::exception& e) {
    src.Fail(std::string("cannot read the policy: ") + e.what());
  }
  if (!src.failed()) Validate(src, p);
  if (src.failed()) return tl::unexpected(*src.error());
  return p;
}

Result<model::Policy> LoadPolicyFile(const std::string& path) {
  // A directory opens and reads as empty on Linux, which would silently mean "all defaults".
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return Fail(ErrorKind::kConfig, "is a directory, not a policy file", path);
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Fail(ErrorKind::kConfig, "cannot open the policy file", path);
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return Fail(ErrorKind::kConfig, "cannot read the policy file", path);
  return ParsePolicy(text.str(), path);
}

}  // namespace kvmem::config
