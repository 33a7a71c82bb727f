// Hugepage demand: how many bytes of which page size a domain's memory backing takes from
// each host node's pools, from its domain XML alone (running or shut off alike).
// Pure. Thread-safe; throws only std::bad_alloc.
//
// Rules, in order:
// 1. No <memoryBacking><hugepages>: no demand (an empty vector).
// 2. Only base RAM counts. virtio-mem memory backends are not counted: libvirt gives each
//    device its own memory-backend object, plugged at run time, which this rule does not
//    follow. With guest NUMA cells (<cpu><numa><cell memory>), the cells are the base RAM
//    (libvirt's <memory> is their sum plus the memory devices). Without cells, one implicit
//    cell 0 holds <memory> minus the virtio-mem devices' sizes; no <memory>: no demand.
// 3. Page size of a cell: the <page> whose nodeset (guest cells) names the cell; else a <page>
//    without nodeset; else the host's default hugepage size (/proc/meminfo Hugepagesize).
// 4. Host node of a cell: its <numatune><memnode cellid=..> when it has one, else the
//    <numatune><memory> element (cells without memnode share it). That rule's nodeset decides:
//    - it names one host node: all of the cell's memory there (any mode);
//    - mode interleave over N nodes: the cell's pages split evenly, ceil(pages / N) per node;
//    - strict/preferred/restrictive over several nodes, no nodeset (placement='auto' has
//      none), no numatune, or a nodeset that does not parse: node -1 (unknown: the kernel
//      picks).
//    A memnode over several nodes gives -1 rather than falling back to <memory>: libvirt binds
//    that cell's memory to the memnode's nodeset, not to <memory>'s.
// 5. Each cell's share is rounded UP to whole pages; shares with the same (node, page size)
//    add up. The result is sorted by node (-1 first), then page size; no zero entries.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string_view>
#include <vector>

#include "controller/model/observation.h"
#include "host/virt/types.h"

namespace kvmem::observe {

// Used when /proc/meminfo has no Hugepagesize (a kernel without hugetlbfs): x86's 2 MiB.
inline constexpr uint64_t kFallbackHugepageBytes = 2ULL << 20;

std::vector<model::HugepageDemand> HugepageDemand(const virt::DomainXml& xml, uint64_t default_page_bytes);

// libvirt's nodeset syntax, "0-3,^2,8": the ids it names. nullopt for "" or anything
// malformed (a range backwards, a non-number, more than 4096 ids).
std::optional<std::set<int>> ParseNodeset(std::string_view nodeset);

}  // namespace kvmem::observe
