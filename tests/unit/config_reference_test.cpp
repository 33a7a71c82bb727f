// deploy/policy.yaml and docs/policy.md's key tables are generated from the policy schema
// (controller/config/schema.cpp). Regenerate both with KVMEM_UPDATE_GOLDEN=1 after changing a
// row (or kvmem_controller --print-policy-example / --print-policy-reference), then review the diff.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "controller/config/policy_yaml.h"
#include "controller/config/reference.h"
#include "controller/config/schema.h"

namespace kvmem::config {
namespace {

const std::string kRepo = KVMEM_FIXTURES "/../..";

bool UpdateGolden() { return std::getenv("KVMEM_UPDATE_GOLDEN") != nullptr; }

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void Write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

TEST(PolicyReference, DeployExampleIsGeneratedFromTheSchema) {
  const std::string path = kRepo + "/deploy/policy.yaml";
  if (UpdateGolden()) Write(path, PolicyExample());
  EXPECT_EQ(Slurp(path), PolicyExample()) << "deploy/policy.yaml is out of date; regenerate with KVMEM_UPDATE_GOLDEN=1 "
                                             "(or kvmem_controller --print-policy-example > deploy/policy.yaml)";
}

TEST(PolicyReference, DocsKeyTablesAreGeneratedFromTheSchema) {
  const std::string path = kRepo + "/docs/policy.md";
  std::string doc = Slurp(path);
  const auto missing = MissingReferenceBlocks(doc);
  ASSERT_TRUE(missing.empty()) << "docs/policy.md lacks the generated block of " << missing.front()
                               << "; paste it from kvmem_controller --print-policy-reference";
  if (UpdateGolden()) {
    doc = SpliceReference(doc);
    Write(path, doc);
  }
  EXPECT_EQ(doc, SpliceReference(doc))
      << "docs/policy.md's key tables are out of date; regenerate with KVMEM_UPDATE_GOLDEN=1";
}

TEST(PolicyReference, EveryKeyHasItsDocumentation) {
  for (const schema::Key& key : schema::Keys()) {
    if (std::holds_alternative<schema::Section>(key.kind)) continue;
    EXPECT_FALSE(key.doc.empty()) << key.path;
    EXPECT_EQ(key.doc.find('|'), std::string_view::npos) << key.path << ": a | would split the table row";
  }
}

TEST(PolicyReference, RelationsNameKeysOfTheTable) {
  for (const schema::Relation& r : schema::Relations()) {
    EXPECT_NE(schema::Find(r.earlier), nullptr) << r.earlier;
    EXPECT_NE(schema::Find(r.later), nullptr) << r.later;
  }
}

TEST(PolicyReference, EveryRowWritesOnlyItsOwnField) {
  // Each row writes only its own field: a copy-pasted accessor shows up as another key changing.
  const model::Policy defaults;
  for (const schema::Key& key : schema::Keys()) {
    if (std::holds_alternative<schema::Section>(key.kind)) continue;
    model::Policy p;
    ASSERT_TRUE(schema::Read(key, "false", p) || schema::Read(key, "3", p) || schema::Read(key, "7s", p) ||
                schema::ReadList(key, {"x"}, p))
        << key.path;
    for (const schema::Key& other : schema::Keys()) {
      if (&other == &key || std::holds_alternative<schema::Section>(other.kind)) continue;
      EXPECT_EQ(schema::Render(other, p), schema::Render(other, defaults)) << key.path << " changed " << other.path;
    }
  }
}

}  // namespace
}  // namespace kvmem::config
