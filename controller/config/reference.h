// The documents generated from the policy schema: deploy/policy.yaml (every key with its
// default and a comment) and the key tables of docs/policy.md, which live there between
// marker comments so that the prose around them stays hand-written.
// Thread-safe (pure functions). Throws only std::bad_alloc.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace kvmem::config {

// deploy/policy.yaml, byte for byte (--print-policy-example).
std::string PolicyExample();

// The sections with a key table in docs/policy.md: "" (the top level), then each top section.
std::vector<std::string_view> ReferenceSections();
// One section's table with its begin and end markers, as docs/policy.md holds it.
std::string ReferenceBlock(std::string_view section);
// Every block, one after the other (--print-policy-reference).
std::string PolicyReference();
// `doc` with every marked block replaced by what the schema generates now; a block whose
// markers are missing stays missing (MissingReferenceBlocks names them).
std::string SpliceReference(std::string_view doc);
std::vector<std::string> MissingReferenceBlocks(std::string_view doc);

}  // namespace kvmem::config
