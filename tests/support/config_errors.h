// Table checks for policy validation errors: each row is a policy text and the exact message
// its rejection must carry, with the file name in front. Header-only. Not thread-safe.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "controller/config/policy_yaml.h"

namespace kvmem::config {

inline void ExpectConfigErrors(const std::vector<std::pair<std::string, std::string>>& rows) {
  for (const auto& [yaml, message] : rows) {
    SCOPED_TRACE(yaml);
    auto p = ParsePolicy(yaml, "/etc/kvmem/policy.yaml");
    ASSERT_FALSE(p);
    EXPECT_EQ(p.error().message, message);
    EXPECT_EQ(p.error().kind, ErrorKind::kConfig);
    EXPECT_EQ(p.error().ToString(), "/etc/kvmem/policy.yaml: " + message);
  }
}

}  // namespace kvmem::config
